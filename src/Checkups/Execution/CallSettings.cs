using System;
using System.Collections.Generic;

namespace Checkups.Execution;

/// <summary>
/// Per-call choices of an <see cref="UpstreamCall"/>, each defaulting to the upstream's own: a value type, so a caller
/// that decides them per request (from an HTTP request's options, say) allocates nothing.
/// </summary>
public readonly record struct CallSettings
{
    /// <summary>Gets how many servers the call may try.</summary>
    /// <value>Default <see langword="null"/>: the upstream's <c>Try</c>. At least 1.</value>
    public int? Try { get; init; }

    /// <summary>
    /// Gets the time after which the call tries no further server, and which no attempt outlives;
    /// <see cref="TimeSpan.MaxValue"/> or <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> for no limit.
    /// </summary>
    /// <value>Default <see langword="null"/>: the upstream's <c>TryTimeout</c>.</value>
    public TimeSpan? TryTimeout { get; init; }

    /// <summary>Gets the order clusters are tried in: cluster names, or level numbers as text; names the upstream lacks are skipped.</summary>
    /// <value>Default <see langword="null"/>: levels ascending, or named clusters in declaration order.</value>
    public IReadOnlyList<string>? ClusterOrder { get; init; }

    /// <summary>Gets what is asked before every retry (a retry budget, say); <see langword="null"/> allows every retry the limits allow.</summary>
    /// <value>Default <see langword="null"/>.</value>
    public IRetryGate? RetryGate { get; init; }

    /// <summary>The settings of <see cref="ExecuteOptions"/>: its try limit, try timeout and cluster order.</summary>
    /// <param name="options">The options; <see langword="null"/> for the upstream's own.</param>
    /// <returns>The settings.</returns>
    public static CallSettings From(ExecuteOptions? options) =>
        options is null ? default : new CallSettings { Try = options.Try, TryTimeout = options.TryTimeout, ClusterOrder = options.ClusterOrder };
}

/// <summary>
/// Asked by an <see cref="UpstreamCall"/> before each attempt after the first (after the try limit and the try timeout,
/// which come first): a caller's policy on retries that the upstream's options do not express, such as the HttpClient
/// handler's retry budget. A refusal stops the call with <see cref="CallStopReason.RetryRefused"/> and the gate's reason.
/// </summary>
public interface IRetryGate
{
    /// <summary>Gets why a retry was refused, as the call's error will say it (e.g. "the retry budget is exhausted").</summary>
    string RefusalReason { get; }

    /// <summary>Takes a retry for <paramref name="upstreamCall"/>, or refuses it.</summary>
    /// <param name="upstreamCall">The call about to make another attempt.</param>
    /// <returns>Whether the retry may go ahead.</returns>
    bool TryAcquireRetry(UpstreamCall upstreamCall);
}
