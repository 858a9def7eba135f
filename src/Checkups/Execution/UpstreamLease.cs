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
    private readonly LeaseState? _state;
    private readonly int _generation;

    internal UpstreamLease(LeaseState state)
    {
        _state = state;
        _generation = state.Generation;
        Server = state.Server!;
    }

    /// <summary>Gets the server to call.</summary>
    public Server Server { get; }

    /// <summary>Gets whether the lease was completed (or is the default value, which holds nothing).</summary>
    public bool IsCompleted => _state is null || Volatile.Read(ref _state.Generation) != _generation;

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
        var state = _state;
        if (state is null || Interlocked.CompareExchange(ref state.Generation, _generation + 1, _generation) != _generation)
        {
            throw new InvalidOperationException($"The lease of server {ToString()} was already completed.");
        }

        var (loop, upstream, cluster, peer, started) = (state.Loop!, state.Upstream!, state.Cluster!, state.Server!, state.Started);
        state.Clear();
        LeaseState.Return(state);
        loop.Complete(upstream, cluster, peer, started, outcome, elapsed);
    }
}

/// <summary>The pooled state behind an <see cref="UpstreamLease"/>; its generation makes a completed lease's copies inert.</summary>
internal sealed class LeaseState
{
    private static readonly LeaseState?[] Pool = new LeaseState?[Math.Max(16, Environment.ProcessorCount * 4)];

    // One state per thread first: a lease acquired and completed on the same thread costs no interlocked operation.
    [ThreadStatic]
    private static LeaseState? t_cached;

    public int Generation;
    public TryLoop? Loop;
    public Upstream? Upstream;
    public Cluster? Cluster;
    public Server? Server;
    public long Started;

    public static LeaseState Rent()
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

        return new LeaseState();
    }

    public static void Return(LeaseState state)
    {
        if (t_cached is null)
        {
            t_cached = state;
            return;
        }

        for (int i = 0; i < Pool.Length; i++)
        {
            if (Volatile.Read(ref Pool[i]) is null && Interlocked.CompareExchange(ref Pool[i], state, null) is null)
            {
                return;
            }
        }
    }

    /// <summary>Drops the references to the snapshot, so a pooled state keeps no old topology alive.</summary>
    public void Clear()
    {
        Upstream = null;
        Cluster = null;
        Server = null;
    }
}
