namespace Checkups.Configuration;

/// <summary>How the hashing modes (<c>hash</c>, <c>url_hash</c>, <c>ip_hash</c>, <c>header_hash</c>) place keys.</summary>
public sealed class HashOptions
{
    /// <summary>Gets or sets the placement algorithm: <c>maglev</c> (weighted lookup table) or <c>ketama</c> (nginx-compatible ring).</summary>
    /// <value>Default <c>maglev</c>.</value>
    public string Algorithm { get; set; } = HashAlgorithms.Maglev;

    /// <summary>Gets or sets the Maglev table size, a prime number of at least 1009.</summary>
    /// <value>Default <see langword="null"/>: 100003 for up to 1000 servers, then the next of 200003, 400009, 800011… that keeps 100 slots per server. The size is kept while a cluster grows or shrinks within one step; a new size remaps nearly every key.</value>
    public int? TableSize { get; set; }

    /// <summary>
    /// Gets or sets the bounded-load factor (as HAProxy's <c>hash-balance-factor</c>, written as a ratio): a server with more
    /// calls in flight than ceil(factor × mean in flight) is passed over for the next one in table order.
    /// </summary>
    /// <value>Default <see langword="null"/>: no bound. At least 1 when set, e.g. 1.25.</value>
    public double? BalanceFactor { get; set; }

    /// <summary>Gets or sets the request header whose value is the key in <c>header_hash</c> mode (the path when it is absent).</summary>
    /// <value>Default <see langword="null"/>; required for <c>header_hash</c>.</value>
    public string? Header { get; set; }
}

/// <summary>The names of the placement algorithms of <see cref="HashOptions.Algorithm"/>.</summary>
public static class HashAlgorithms
{
    /// <summary>A weighted Maglev lookup table: O(1) lookups, even balance, weights honoured. The default.</summary>
    public const string Maglev = "maglev";

    /// <summary>nginx's <c>hash $key consistent</c> ring (CRC-32, 160 points per weight unit): the same key→server mapping as nginx.</summary>
    public const string Ketama = "ketama";
}
