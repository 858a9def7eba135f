using System;
using System.Collections.Generic;

namespace Checkups.Execution;

/// <summary>Per-call choices for <see cref="Registry.UpstreamRegistry.ExecuteAsync{TResult}(string, Func{Model.Server, System.Threading.CancellationToken, System.Threading.Tasks.ValueTask{TResult}}, ExecuteOptions?, System.Threading.CancellationToken)"/>.
/// Instances are read, never changed, by a call: cache and share them.</summary>
public class ExecuteOptions
{
    /// <summary>
    /// Gets the order in which clusters are tried: cluster names, or level numbers as text (<c>"2"</c>, <c>"1"</c>).
    /// Names the upstream does not have are skipped.
    /// </summary>
    /// <value>Default <see langword="null"/>: levels ascending, or named clusters in declaration order.</value>
    public IReadOnlyList<string>? ClusterOrder { get; init; }

    /// <summary>Gets how many servers this call may try.</summary>
    /// <value>Default <see langword="null"/>: the upstream's <c>Try</c>.</value>
    public int? Try { get; init; }

    /// <summary>
    /// Gets the time after which this call stops trying further servers; <see cref="TimeSpan.MaxValue"/> or
    /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> for no limit.
    /// </summary>
    /// <value>Default <see langword="null"/>: the upstream's <c>TryTimeout</c>.</value>
    public TimeSpan? TryTimeout { get; init; }

    /// <summary>
    /// Gets the key hashing modes balance by. A key that changes per call is better passed to the
    /// <c>ExecuteAsync(upstream, hashKey, state, callback, options)</c> overload, so one options instance serves every call.
    /// </summary>
    /// <value>Default <see langword="null"/>.</value>
    public string? HashKey { get; init; }
}

/// <summary>Per-call choices with a classifier for the callback's result.</summary>
/// <typeparam name="TResult">The callback's result type.</typeparam>
public sealed class ExecuteOptions<TResult> : ExecuteOptions
{
    /// <summary>
    /// Gets a function that says whether a result is a failure (for example an HTTP 503): a failure is reported
    /// against the server and the call moves on to another one.
    /// </summary>
    /// <value>Default <see langword="null"/>: every result is a success.</value>
    public Func<TResult, bool>? IsFailure { get; init; }
}
