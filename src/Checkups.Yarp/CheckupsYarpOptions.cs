using System;

namespace Checkups.Yarp;

/// <summary>How YARP clusters run on Checkups (<c>AddReverseProxy().AddCheckups(…)</c>).</summary>
public sealed class CheckupsYarpOptions
{
    /// <summary>
    /// Gets or sets whether a cluster whose id is the name of a Checkups upstream is bound to it without the
    /// <see cref="CheckupsYarpMetadata.Upstream"/> metadata.
    /// </summary>
    /// <value>Default <see langword="true"/>.</value>
    public bool BindClustersById { get; set; } = true;

    /// <summary>
    /// Gets or sets whether POST and PATCH requests may be retried on another destination (their bodies are buffered
    /// for it, within <see cref="MaxRetryBodyBytes"/>); a cluster can opt in alone with the
    /// <see cref="CheckupsYarpMetadata.RetryNonIdempotent"/> metadata.
    /// </summary>
    /// <value>Default <see langword="false"/>: only idempotent methods are retried.</value>
    public bool RetryNonIdempotent { get; set; }

    /// <summary>
    /// Gets or sets whether request bodies of requests that may be retried are buffered (up to
    /// <see cref="MaxRetryBodyBytes"/>: in memory up to 64 KiB, beyond in a temporary file) so that a retry sends them
    /// again. Without it, a request with a body has one try.
    /// </summary>
    /// <value>Default <see langword="false"/>: YARP streams bodies, and a request with one is not retried.</value>
    public bool BufferRequestBodies { get; set; }

    /// <summary>Gets or sets the largest body buffered for a retry; a larger one, or one of unknown length, has one try.</summary>
    /// <value>Default 1 MiB; 1 byte to 100 MiB.</value>
    public long MaxRetryBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Gets or sets the scheme of destination addresses, unless a cluster's <see cref="CheckupsYarpMetadata.Scheme"/> says otherwise.</summary>
    /// <value>Default <c>http</c>.</value>
    public string Scheme { get; set; } = "http";

    /// <summary>Gets or sets the share of a retry each request deposits in its cluster's retry budget.</summary>
    /// <value>Default 0.2.</value>
    public double RetryBudgetRatio { get; set; } = 0.2;

    /// <summary>Gets or sets the retries a second each cluster's budget earns whatever its traffic.</summary>
    /// <value>Default 10.</value>
    public double RetryBudgetMinPerSecond { get; set; } = 10;

    /// <summary>Gets or sets the time constant with which a budget's deposits fade.</summary>
    /// <value>Default 10 seconds.</value>
    public TimeSpan RetryBudgetWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Checks every option.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public void Validate()
    {
        if (MaxRetryBodyBytes is < 1 or > 100 * 1024 * 1024)
        {
            throw new ArgumentException($"MaxRetryBodyBytes must be from 1 byte to 100 MiB (was {MaxRetryBodyBytes}).");
        }

        if (Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"Scheme must be http or https (was '{Scheme}').");
        }

        if (!(RetryBudgetRatio >= 0 && double.IsFinite(RetryBudgetRatio)) || !(RetryBudgetMinPerSecond >= 0 && double.IsFinite(RetryBudgetMinPerSecond)) || RetryBudgetWindow <= TimeSpan.Zero)
        {
            throw new ArgumentException($"The retry budget needs a finite ratio and floor of at least 0 and a positive window (were {RetryBudgetRatio}, {RetryBudgetMinPerSecond}, {RetryBudgetWindow}).");
        }
    }
}

/// <summary>The YARP cluster metadata keys Checkups reads.</summary>
public static class CheckupsYarpMetadata
{
    /// <summary>The Checkups upstream the cluster is bound to (without it, a cluster whose id is an upstream's name is).</summary>
    public const string Upstream = "Checkups.Upstream";

    /// <summary>
    /// Where the hash key of hashing modes comes from: <c>header:Name</c>, <c>query:name</c>, <c>cookie:name</c>,
    /// <c>route:name</c>, <c>path</c> or <c>client-ip</c>. Without it the mode decides: <c>url_hash</c> the path,
    /// <c>header_hash</c> the upstream's hash header (else the path), <c>ip_hash</c> the client's address.
    /// </summary>
    public const string HashKey = "Checkups.HashKey";

    /// <summary>The scheme of the cluster's destination addresses: <c>http</c> or <c>https</c>.</summary>
    public const string Scheme = "Checkups.Scheme";

    /// <summary><c>true</c> lets the cluster retry POST and PATCH (with buffered bodies) on another destination.</summary>
    public const string RetryNonIdempotent = "Checkups.RetryNonIdempotent";

    /// <summary>The name of the load balancing, available destinations and passive health policies Checkups registers in YARP.</summary>
    public const string PolicyName = "Checkups";
}
