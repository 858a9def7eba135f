namespace Checkups.Http;

/// <summary>Which Host header a balanced request carries.</summary>
public enum CheckupsHostHeader
{
    /// <summary>The logical name the request was addressed to (the upstream), as nginx's <c>proxy_set_header Host $proxy_host</c>.</summary>
    LogicalName,

    /// <summary>The chosen server's <c>host:port</c>.</summary>
    Server,
}

/// <summary>Options of the Checkups handler of one HttpClient (named after the client).</summary>
public sealed class CheckupsHttpOptions
{
    /// <summary>Gets or sets the scheme requests are sent with.</summary>
    /// <value>Default <see langword="null"/>: the request's own scheme.</value>
    public string? Scheme { get; set; }

    /// <summary>Gets or sets which Host header a request carries (unless the request sets one).</summary>
    /// <value>Default <see cref="CheckupsHostHeader.LogicalName"/>.</value>
    public CheckupsHostHeader HostHeader { get; set; } = CheckupsHostHeader.LogicalName;

    /// <summary>
    /// Gets or sets whether POST and PATCH requests are retried on another server too. Only requests whose content can be
    /// sent again are: content of a known length up to <see cref="MaxRetryContentBytes"/>, buffered before the first try.
    /// </summary>
    /// <value>Default <see langword="false"/>: only GET, HEAD, OPTIONS, PUT, DELETE and TRACE are retried.</value>
    public bool RetryNonIdempotent { get; set; }

    /// <summary>Gets or sets the largest request content buffered so that it can be sent again on a retry.</summary>
    /// <value>Default 1 MiB. Larger content, or content of unknown length, is sent once.</value>
    public long MaxRetryContentBytes { get; set; } = 1024 * 1024;
}
