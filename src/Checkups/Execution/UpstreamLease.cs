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
/// Complete a lease once; a copy of a completed lease cannot complete it again. A lease given by
/// <see cref="UpstreamCall.TryNext"/> also tells its call how the attempt ended.
/// </summary>
public readonly struct UpstreamLease
{
    // The call's own data travels in the struct (no heap writes per lease); the pooled token only guards "once". A lease of
    // an UpstreamCall carries the call's token instead, and the call keeps the attempt's data.
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

    internal UpstreamLease(Server server, UpstreamCall.CallToken token)
    {
        _token = token;
        _generation = token.Generation;
        _loop = null;
        _upstream = null;
        _cluster = null;
        _started = 0;
        Server = server;
    }

    /// <summary>Gets the server to call.</summary>
    public Server Server { get; }

    /// <summary>Gets whether the lease was completed (or is the default value, which holds nothing).</summary>
    public bool IsCompleted => _token is null || Volatile.Read(ref _token.Generation) != _generation;

    /// <summary>Completes the lease; the elapsed time is measured from acquisition on the registry's clock.</summary>
    /// <param name="outcome">How the call ended.</param>
    /// <exception cref="InvalidOperationException">The lease was already completed.</exception>
    public void Complete(LeaseOutcome outcome) => Finish(outcome, null, null);

    /// <summary>Completes the lease with the elapsed time the caller measured.</summary>
    /// <param name="outcome">How the call ended.</param>
    /// <param name="elapsed">How long the call took.</param>
    /// <exception cref="InvalidOperationException">The lease was already completed.</exception>
    public void Complete(LeaseOutcome outcome, TimeSpan elapsed) => Finish(outcome, elapsed, null);

    /// <summary>
    /// Completes the lease with the elapsed time and, for a failure, why it failed: the <see cref="UpstreamCall"/> the lease
    /// belongs to names it in its final error (<see cref="UpstreamAttempt.Exception"/>).
    /// </summary>
    /// <param name="outcome">How the call ended.</param>
    /// <param name="elapsed">How long the call took.</param>
    /// <param name="error">Why the attempt failed; <see langword="null"/> when its result was classified as a failure.</param>
    /// <exception cref="InvalidOperationException">The lease was already completed.</exception>
    public void Complete(LeaseOutcome outcome, TimeSpan elapsed, Exception? error) => Finish(outcome, elapsed, error);

    /// <summary>Completes the lease with why it failed, the elapsed time measured from acquisition (the try loop's own form).</summary>
    internal void Complete(LeaseOutcome outcome, Exception? error) => Finish(outcome, null, error);

    /// <inheritdoc />
    public override string ToString() => Server?.Key ?? "(no lease)";

    private void Finish(LeaseOutcome outcome, TimeSpan? elapsed, Exception? error)
    {
        var token = _token;
        if (token is UpstreamCall.CallToken call)
        {
            // A call's lease belongs to the one flow that runs the call, which completes it before asking for the next: the
            // call's own state tells a second completion, so no interlocked operation is needed here.
            if (token.Generation != _generation)
            {
                throw new InvalidOperationException($"The lease of server {ToString()} was already completed.");
            }

            token.Generation = _generation + 1;
            call.Call.Completed(outcome, elapsed, error);
            return;
        }

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
/// lease is inert, even after the token serves another lease. A call's own token (<see cref="UpstreamCall.CallToken"/>)
/// belongs to its call and never enters the pool.
/// </summary>
internal class LeaseToken
{
    private static readonly ObjectPool<LeaseToken> Pool = new(static () => new LeaseToken());

    // One per thread in front of the pool: a lease acquired and completed on one thread costs no interlocked operation.
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

        return Pool.Rent();
    }

    public static void Return(LeaseToken token)
    {
        if (t_cached is null)
        {
            t_cached = token;
            return;
        }

        Pool.Return(token);
    }
}
