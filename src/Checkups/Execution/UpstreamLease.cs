using System;
using System.Threading;
using Checkups.Model;

namespace Checkups.Execution;

/// <summary>How a call made on a lease ended.</summary>
public enum LeaseOutcome
{
    /// <summary>The call succeeded.</summary>
    Success,

    /// <summary>The call failed: counted against the server (passive health, the selector), as a try-loop failure is.</summary>
    Failure,

    /// <summary>The caller gave up: not a failure; the server is only released.</summary>
    Cancelled,
}

/// <summary>
/// One server acquired for one call by a caller that does its own I/O (the HttpClient handler, a client library): the
/// call counts as in flight from acquisition until <see cref="Complete(LeaseOutcome)"/>, which feeds latency, passive
/// health and the selector exactly as an attempt of the try loop does. Acquiring and completing allocate nothing.
/// Complete a lease once; a copy of a completed lease cannot complete it again.
/// </summary>
public readonly struct UpstreamLease
{
    // The call's own data travels in the struct (no heap writes per lease); the pooled token only guards "once".
    private readonly LeaseToken? _token;
    private readonly int _generation;
    private readonly TryLoop? _loop;
    private readonly Upstream? _upstream;
    private readonly Cluster? _cluster;
    private readonly long _started;

    internal UpstreamLease(TryLoop loop, Upstream upstream, Cluster cluster, Server server, long started)
    {
        _token = LeaseToken.Rent();
        _generation = _token.Generation;
        _loop = loop;
        _upstream = upstream;
        _cluster = cluster;
        _started = started;
        Server = server;
    }

    /// <summary>Gets the server to call.</summary>
    public Server Server { get; }

    /// <summary>Gets whether the lease was completed (or is the default value, which holds nothing).</summary>
    public bool IsCompleted => _token is null || Volatile.Read(ref _token.Generation) != _generation;

    /// <summary>Completes the lease; the elapsed time is measured from acquisition on the registry's clock.</summary>
    /// <param name="outcome">How the call ended.</param>
    /// <exception cref="InvalidOperationException">The lease was already completed.</exception>
    public void Complete(LeaseOutcome outcome) => Finish(outcome, null);

    /// <summary>Completes the lease with the elapsed time the caller measured.</summary>
    /// <param name="outcome">How the call ended.</param>
    /// <param name="elapsed">How long the call took.</param>
    /// <exception cref="InvalidOperationException">The lease was already completed.</exception>
    public void Complete(LeaseOutcome outcome, TimeSpan elapsed) => Finish(outcome, elapsed);

    /// <inheritdoc />
    public override string ToString() => Server?.Key ?? "(no lease)";

    private void Finish(LeaseOutcome outcome, TimeSpan? elapsed)
    {
        var token = _token;
        if (token is null || Interlocked.CompareExchange(ref token.Generation, _generation + 1, _generation) != _generation)
        {
            throw new InvalidOperationException($"The lease of server {ToString()} was already completed.");
        }

        LeaseToken.Return(token);
        _loop!.Complete(_upstream!, _cluster!, Server, _started, outcome, elapsed);
    }
}

/// <summary>
/// The pooled guard behind an <see cref="UpstreamLease"/>: completing moves its generation on, so every copy of a completed
/// lease is inert, even after the token serves another lease.
/// </summary>
internal sealed class LeaseToken
{
    private static readonly LeaseToken?[] Pool = new LeaseToken?[Math.Max(16, Environment.ProcessorCount * 4)];

    // One token per thread first: a lease acquired and completed on the same thread costs no pool operation.
    [ThreadStatic]
    private static LeaseToken? t_cached;

    public int Generation;

    public static LeaseToken Rent()
    {
        var cached = t_cached;
        if (cached is not null)
        {
            t_cached = null;
            return cached;
        }

        for (int i = 0; i < Pool.Length; i++)
        {
            var item = Volatile.Read(ref Pool[i]);
            if (item is not null && Interlocked.CompareExchange(ref Pool[i], null, item) == item)
            {
                return item;
            }
        }

        return new LeaseToken();
    }

    public static void Return(LeaseToken token)
    {
        if (t_cached is null)
        {
            t_cached = token;
            return;
        }

        for (int i = 0; i < Pool.Length; i++)
        {
            if (Volatile.Read(ref Pool[i]) is null && Interlocked.CompareExchange(ref Pool[i], token, null) is null)
            {
                return;
            }
        }
    }
}
