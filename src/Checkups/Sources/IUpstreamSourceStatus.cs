using System;
using System.Collections.Generic;

namespace Checkups.Sources;

/// <summary>
/// Implemented by a source that can tell how its feed is doing (a Consul watch: the last index, the last answer, the last
/// error). The registry's status reports it under <c>sources</c>, beside the upstreams the source owns.
/// </summary>
public interface IUpstreamSourceStatus
{
    /// <summary>Gets the feed's state now; called for each status snapshot, so it should be cheap and must not block.</summary>
    /// <returns>The state.</returns>
    SourceStatus GetSourceStatus();
}

/// <summary>How one source's feed is doing.</summary>
public sealed class SourceStatus
{
    private static readonly IReadOnlyDictionary<string, string> NoFields = new Dictionary<string, string>();

    /// <summary>Initializes a new instance of the <see cref="SourceStatus"/> class.</summary>
    /// <param name="lastSuccess">When the source last read its feed successfully; <see langword="null"/> if never.</param>
    /// <param name="lastError">The last error, or <see langword="null"/> when the last read succeeded.</param>
    /// <param name="fields">Anything else worth showing (e.g. <c>last_index</c>); never secrets.</param>
    public SourceStatus(DateTimeOffset? lastSuccess, string? lastError, IReadOnlyDictionary<string, string>? fields = null)
    {
        LastSuccess = lastSuccess;
        LastError = lastError;
        Fields = fields ?? NoFields;
    }

    /// <summary>Gets when the source last read its feed successfully.</summary>
    public DateTimeOffset? LastSuccess { get; }

    /// <summary>Gets the last error, or <see langword="null"/> when the last read succeeded.</summary>
    public string? LastError { get; }

    /// <summary>Gets the source's own fields, such as <c>last_index</c>.</summary>
    public IReadOnlyDictionary<string, string> Fields { get; }
}
