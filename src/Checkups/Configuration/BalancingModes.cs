namespace Checkups.Configuration;

/// <summary>The names of the balancing modes an upstream can use (<see cref="UpstreamOptions.Mode"/>).</summary>
public static class BalancingModes
{
    /// <summary>Smooth weighted round robin, as nginx does it. The default.</summary>
    public const string WeightedRoundRobin = "wrr";

    /// <summary>Consistent hashing by a key the caller gives.</summary>
    public const string Hash = "hash";

    /// <summary>Consistent hashing by the request path.</summary>
    public const string UrlHash = "url_hash";

    /// <summary>Consistent hashing by the client address the caller gives.</summary>
    public const string IpHash = "ip_hash";

    /// <summary>Consistent hashing by a request header (<see cref="HashOptions.Header"/>), falling back to the path.</summary>
    public const string HeaderHash = "header_hash";

    /// <summary>Fastest response: peak-sensitive latency average × calls in flight, the cheaper of two random servers.</summary>
    public const string Fastest = "fastest";

    /// <summary>Local first: servers in the caller's locality, spilling over when they cannot carry their share.</summary>
    public const string LocalFirst = "local";

    /// <summary>The server with the fewest calls in flight per unit of weight.</summary>
    public const string LeastRequests = "least_requests";

    /// <summary>Power of two choices: the one with fewer calls in flight (per unit of weight) of two weighted random servers.</summary>
    public const string PowerOfTwoChoices = "p2c";

    /// <summary>Whether a mode places calls by a hash key.</summary>
    /// <param name="mode">A canonical mode name.</param>
    /// <returns><see langword="true"/> for the four hashing modes.</returns>
    public static bool IsHashing(string mode) => mode is Hash or UrlHash or IpHash or HeaderHash;
}
