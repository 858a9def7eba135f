using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Checkups.Execution;

/// <summary>Why a call stopped without a server serving it.</summary>
public enum CallStopReason
{
    /// <summary>No server of any cluster (in the caller's cluster order) was selectable.</summary>
    NoSelectableServer,

    /// <summary>Every selectable server was tried and failed.</summary>
    EveryServerTried,

    /// <summary>The try limit (<c>Try</c>) was reached.</summary>
    TryLimitReached,

    /// <summary>The try timeout (<c>TryTimeout</c>) ran out.</summary>
    TryTimeoutExceeded,

    /// <summary>The upstream was removed while the call was retrying.</summary>
    UpstreamRemoved,

    /// <summary>A retry was due but the caller's <see cref="IRetryGate"/> refused it (an HTTP client's retry budget, say).</summary>
    RetryRefused,
}

/// <summary>The base of the exceptions a call throws when no server served it; names the upstream and every attempt.</summary>
public abstract class UpstreamCallException : CheckupsException
{
    /// <summary>Initializes a new instance of the <see cref="UpstreamCallException"/> class.</summary>
    /// <param name="upstream">The upstream name.</param>
    /// <param name="reason">Why the call stopped.</param>
    /// <param name="detail">Why the call stopped, in words.</param>
    /// <param name="attempts">The failed attempts, in order.</param>
    private protected UpstreamCallException(string upstream, CallStopReason reason, string detail, IReadOnlyList<UpstreamAttempt> attempts)
        : base(FormatMessage(upstream, detail, attempts), attempts.Count > 0 ? attempts[^1].Exception : null)
    {
        Upstream = upstream;
        Reason = reason;
        Attempts = attempts;
    }

    /// <summary>Gets the upstream name.</summary>
    public string Upstream { get; }

    /// <summary>Gets why the call stopped, for callers that act on it (the message says the same in words).</summary>
    public CallStopReason Reason { get; }

    /// <summary>Gets the failed attempts, in order.</summary>
    public IReadOnlyList<UpstreamAttempt> Attempts { get; }

    /// <summary>Gets the result of the last attempt when it was classified as a failure; otherwise <see langword="null"/>.</summary>
    public object? LastResult { get; init; }

    private static string FormatMessage(string upstream, string reason, IReadOnlyList<UpstreamAttempt> attempts)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Upstream '{upstream}': {reason}");
        if (attempts.Count == 0)
        {
            text.Append("; no server was tried.");
            return text.ToString();
        }

        text.Append(CultureInfo.InvariantCulture, $"; {attempts.Count} attempt(s): ");
        for (int i = 0; i < attempts.Count; i++)
        {
            text.Append(i == 0 ? string.Empty : "; ").Append(attempts[i]);
        }

        return text.ToString();
    }
}

/// <summary>Thrown when no server could serve a call: none selectable, every one tried, or the try limit reached.</summary>
public sealed class NoServerAvailableException : UpstreamCallException
{
    /// <summary>Initializes a new instance of the <see cref="NoServerAvailableException"/> class.</summary>
    /// <param name="upstream">The upstream name.</param>
    /// <param name="reason">Why the call stopped.</param>
    /// <param name="detail">Why the call stopped, in words.</param>
    /// <param name="attempts">The failed attempts, in order.</param>
    internal NoServerAvailableException(string upstream, CallStopReason reason, string detail, IReadOnlyList<UpstreamAttempt> attempts)
        : base(upstream, reason, "no servers available (" + detail + ")", attempts)
    {
    }
}

/// <summary>Thrown when a call's try timeout ran out before a server served it.</summary>
public sealed class TryTimeoutException : UpstreamCallException
{
    /// <summary>Initializes a new instance of the <see cref="TryTimeoutException"/> class.</summary>
    /// <param name="upstream">The upstream name.</param>
    /// <param name="tryTimeout">The try timeout that was exceeded.</param>
    /// <param name="attempts">The failed attempts, in order.</param>
    internal TryTimeoutException(string upstream, TimeSpan tryTimeout, IReadOnlyList<UpstreamAttempt> attempts)
        : base(upstream, CallStopReason.TryTimeoutExceeded, string.Create(CultureInfo.InvariantCulture, $"try timeout of {tryTimeout.TotalMilliseconds:0.###} ms exceeded"), attempts)
    {
        TryTimeout = tryTimeout;
    }

    /// <summary>Gets the try timeout that was exceeded.</summary>
    public TimeSpan TryTimeout { get; }
}
