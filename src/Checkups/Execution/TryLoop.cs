using System;
using Checkups.Configuration;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Balancing;
using Checkups.Diagnostics;
using Checkups.Model;
using Microsoft.Extensions.Logging;

namespace Checkups.Execution;

/// <summary>
/// lua-resty-checkups' <c>ready_ok</c>: pick a server, call back, judge the outcome, report it, and on failure move to
/// another server of the cluster, then to the next cluster, until the try limit or the try timeout runs out.
/// A call whose callback completes synchronously with a success allocates nothing.
/// </summary>
internal sealed class TryLoop
{
    private const int Pending = 0;
    private const int FailedResult = 1;
    private const int Threw = 2;

    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Registry.UpstreamStore _store;

    public TryLoop(TimeProvider time, ILogger logger, Registry.UpstreamStore store)
    {
        _store = store;
        _time = time;
        _logger = logger;
    }

    public ValueTask<TResult> ExecuteAsync<TState, TResult>(
        Upstream upstream,
        TState state,
        Func<Server, TState, CancellationToken, ValueTask<TResult>> callback,
        ExecuteOptions? options,
        string? hashKey,
        CancellationToken cancellationToken)
    {
        var isFailure = GetClassifier<TResult>(options);
        cancellationToken.ThrowIfCancellationRequested();
        TimeSpan? tryTimeout = options?.TryTimeout is { } perCall ? CheckupsOptionsValidator.EffectiveTryTimeout(perCall) : upstream.TryTimeout;
        long started = tryTimeout.HasValue ? _time.GetTimestamp() : 0;

        var context = SelectionContext.For(upstream, hashKey);
        int position = 0;
        Cluster? cluster = null;
        var peer = NextPeer(upstream, options?.ClusterOrder, ref position, ref cluster, ref context, tried: null);
        if (peer is null)
        {
            throw new NoServerAvailableException(upstream.Name, CallStopReason.NoSelectableServer, NoSelectableReason(options), Array.Empty<UpstreamAttempt>());
        }

        long attemptStarted = Start(cluster!, peer);
        ValueTask<TResult> pending;
        try
        {
            pending = callback(peer, state, cancellationToken);
        }
        catch (Exception ex)
        {
            if (IsCallerCancellation(ex, cancellationToken))
            {
                Release(cluster!, peer);
                throw;
            }

            return ContinueAsync(upstream, state, callback, options, hashKey, isFailure, tryTimeout, started, context, position, cluster!, peer, default, Threw, ex, attemptStarted, cancellationToken);
        }

        if (pending.IsCompletedSuccessfully)
        {
            var result = pending.Result;
            bool failedResult;
            try
            {
                failedResult = isFailure is not null && isFailure(result);
            }
            catch (Exception ex)
            {
                // A classifier that throws makes the attempt a failure, as on the asynchronous path.
                return ContinueAsync(upstream, state, callback, options, hashKey, isFailure, tryTimeout, started, context, position, cluster!, peer, default, Threw, ex, attemptStarted, cancellationToken);
            }

            if (!failedResult)
            {
                End(upstream, cluster!, peer, false, attemptStarted);
                return new ValueTask<TResult>(result);
            }

            // The result was consumed above; hand the copy on, not the ValueTask a second time.
            return ContinueAsync(upstream, state, callback, options, hashKey, isFailure, tryTimeout, started, context, position, cluster!, peer, new ValueTask<TResult>(result), FailedResult, null, attemptStarted, cancellationToken);
        }

        return ContinueAsync(upstream, state, callback, options, hashKey, isFailure, tryTimeout, started, context, position, cluster!, peer, pending, Pending, null, attemptStarted, cancellationToken);
    }

    /// <summary>Reports one attempt's outcome to the server's health and to the selector of its cluster.</summary>
    public void Record(Upstream upstream, Cluster cluster, Server peer, in CallOutcome outcome)
    {
        if (outcome.Failed)
        {
            // The last-ok guard judges the upstream as it is now, not as the call saw it: a server removed meanwhile
            // does not keep the last live one selectable.
            if (peer.Health.RecordFailure(peer, Latest(upstream) ?? upstream))
            {
                Log.PeerMarkedErr(_logger, peer.Key, upstream.Name, peer.MaxFails, peer.FailTimeout);
            }

            cluster.Selector.OnCompleted(peer, outcome);
            return;
        }

        peer.Health.RecordSuccess();
        if (cluster.Selector.ObservesCalls)
        {
            cluster.Selector.OnCompleted(peer, outcome);
        }
    }

    /// <summary>
    /// Picks a server for a call with no callback (<c>SelectPeer</c>, a lease): the first cluster in order that has a
    /// selectable server not in <paramref name="tried"/>. The same routine the try loop moves through clusters with.
    /// </summary>
    public static Server? Select(Upstream upstream, IReadOnlyList<string>? order, ref SelectionContext context, IReadOnlyList<Server>? tried, out Cluster? cluster)
    {
        int position = 0;
        cluster = null;
        return NextPeer(upstream, order, ref position, ref cluster, ref context, tried);
    }

    /// <summary>The upstream's current snapshot, one volatile read; <see langword="null"/> when it was removed.</summary>
    private Upstream? Latest(Upstream upstream) => _store.Current.Upstreams.GetValueOrDefault(upstream.Name);

    /// <summary>Starts a lease on a picked server: counted in flight as a try-loop attempt is.</summary>
    public UpstreamLease Lease(Upstream upstream, Cluster cluster, Server peer) =>
        new(this, upstream, cluster, peer, Start(cluster, peer));

    /// <summary>A caller's measured duration in the clock's timestamp units (never negative).</summary>
    private long ToTimestampTicks(TimeSpan elapsed) =>
        Math.Max(0, (long)(elapsed.Ticks * (_time.TimestampFrequency / (double)TimeSpan.TicksPerSecond)));

    /// <summary>Completes a lease: the same accounting as the end of a try-loop attempt.</summary>
    public void Complete(Upstream upstream, Cluster cluster, Server peer, long started, LeaseOutcome outcome, TimeSpan? elapsed)
    {
        if (outcome == LeaseOutcome.Cancelled)
        {
            Release(cluster, peer);
            return;
        }

        bool failed = outcome == LeaseOutcome.Failure;
        peer.Health.CallEnded();
        if (!cluster.Selector.ObservesCalls)
        {
            if (!failed && elapsed is { } given)
            {
                // The caller measured the call: the status shows it, at no clock read of ours.
                peer.Health.RecordLatency(ToTimestampTicks(given));
            }

            Record(upstream, cluster, peer, new CallOutcome(failed, 0));
            return;
        }

        long duration = elapsed is { } measured ? ToTimestampTicks(measured) : _time.GetTimestamp() - started;
        if (!failed)
        {
            peer.Health.RecordLatency(duration);
        }

        Record(upstream, cluster, peer, new CallOutcome(failed, duration, Started: true));
    }

    /// <summary>Starts an attempt: the server counts it in flight (for every mode, and the status), its selector hears of it when it follows calls.</summary>
    private long Start(Cluster cluster, Server peer)
    {
        peer.Health.CallStarted();
        if (!cluster.Selector.ObservesCalls)
        {
            return 0;
        }

        cluster.Selector.OnStarted(peer);
        return _time.GetTimestamp();
    }

    /// <summary>Ends an attempt that completed or failed: no longer in flight, its outcome recorded.</summary>
    private void End(Upstream upstream, Cluster cluster, Server peer, bool failed, long attemptStarted)
    {
        peer.Health.CallEnded();
        if (!cluster.Selector.ObservesCalls)
        {
            Record(upstream, cluster, peer, new CallOutcome(failed, 0));
            return;
        }

        long duration = _time.GetTimestamp() - attemptStarted;
        if (!failed)
        {
            peer.Health.RecordLatency(duration);
        }

        Record(upstream, cluster, peer, new CallOutcome(failed, duration, Started: true));
    }

    /// <summary>The caller cancelled: not a failure, but no longer in flight, and a selector that counts calls must hear of it.</summary>
    private static void Release(Cluster cluster, Server peer)
    {
        peer.Health.CallEnded();
        if (cluster.Selector.ObservesCalls)
        {
            cluster.Selector.OnCompleted(peer, new CallOutcome(false, 0, Cancelled: true, Started: true));
        }
    }

    /// <remarks>
    /// The state machine is pooled: a call that goes asynchronous allocates nothing of its own once the pool is warm
    /// (about 300 bytes per call otherwise). The caller's <see cref="ValueTask{TResult}"/> must be awaited once, as any
    /// <see cref="ValueTask{TResult}"/>.
    /// </remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<TResult> ContinueAsync<TState, TResult>(
        Upstream upstream,
        TState state,
        Func<Server, TState, CancellationToken, ValueTask<TResult>> callback,
        ExecuteOptions? options,
        string? hashKey,
        Func<TResult, bool>? isFailure,
        TimeSpan? tryTimeout,
        long started,
        SelectionContext context,
        int position,
        Cluster cluster,
        Server peer,
        ValueTask<TResult> pending,
        int outcome,
        Exception? error,
        long attemptStarted,
        CancellationToken cancellationToken)
    {
        int tryLimit = options?.Try ?? upstream.Try;
        int tries = 1;
        List<UpstreamAttempt>? attempts = null;
        List<Server>? tried = null;
        Cluster? current = cluster;
        while (true)
        {
            TResult result = default!;
            bool failed;
            if (outcome == Threw)
            {
                failed = true;
            }
            else
            {
                try
                {
                    result = await pending.ConfigureAwait(false);
                    failed = outcome == FailedResult || (isFailure is not null && isFailure(result));
                }
                catch (Exception ex)
                {
                    if (IsCallerCancellation(ex, cancellationToken))
                    {
                        Release(current!, peer);
                        throw;
                    }

                    failed = true;
                    error = ex;
                }
            }

            End(upstream, current!, peer, failed, attemptStarted);
            if (!failed)
            {
                return result;
            }

            (attempts ??= new List<UpstreamAttempt>()).Add(new UpstreamAttempt(peer, error));
            (tried ??= new List<Server>()).Add(peer);
            object? lastResult = error is null ? result : null;
            context.Tried.Add(peer.Index);

            if (tries >= tryLimit)
            {
                throw new NoServerAvailableException(
                    upstream.Name,
                    CallStopReason.TryLimitReached,
                    string.Create(CultureInfo.InvariantCulture, $"try limit of {tryLimit} reached"),
                    attempts) { LastResult = lastResult };
            }

            if (tryTimeout is { } limit && _time.GetElapsedTime(started) >= limit)
            {
                throw new TryTimeoutException(upstream.Name, limit, attempts) { LastResult = lastResult };
            }

            cancellationToken.ThrowIfCancellationRequested();
            var latest = Latest(upstream);
            if (latest is null)
            {
                throw new NoServerAvailableException(upstream.Name, CallStopReason.UpstreamRemoved, "the upstream was removed during the call", attempts) { LastResult = lastResult };
            }

            if (!ReferenceEquals(latest, upstream))
            {
                // The upstream changed during the call: the retry picks from what it is now, from its first cluster on,
                // skipping the servers this call tried (matched by their live state, which follows host:port).
                upstream = latest;
                position = 0;
                current = null;
                context = SelectionContext.For(latest, hashKey);
            }

            var next = NextPeer(upstream, options?.ClusterOrder, ref position, ref current, ref context, tried);
            if (next is null)
            {
                throw new NoServerAvailableException(upstream.Name, CallStopReason.EveryServerTried, "every selectable server was tried", attempts) { LastResult = lastResult };
            }

            peer = next;
            tries++;
            error = null;
            outcome = Pending;
            attemptStarted = Start(current!, peer);
            try
            {
                pending = callback(peer, state, cancellationToken);
            }
            catch (Exception ex)
            {
                if (IsCallerCancellation(ex, cancellationToken))
                {
                    Release(current!, peer);
                    throw;
                }

                outcome = Threw;
                error = ex;
            }
        }
    }

    /// <summary>
    /// Asks the current cluster for a server; when it has none left, moves along the cluster order. A server that
    /// already failed in this call is skipped in later clusters too (the same host:port may sit in several).
    /// </summary>
    private static Server? NextPeer(
        Upstream upstream,
        IReadOnlyList<string>? order,
        ref int position,
        ref Cluster? cluster,
        ref SelectionContext context,
        IReadOnlyList<Server>? tried)
    {
        if (cluster is not null)
        {
            var peer = cluster.Selector.Select(ref context);
            if (peer is not null)
            {
                return peer;
            }

            position++;
        }

        while ((cluster = ClusterAt(upstream, order, ref position)) is not null)
        {
            context.Tried.Clear();
            if (tried is { Count: > 0 })
            {
                MarkTried(cluster, tried, ref context);
            }

            var peer = cluster.Selector.Select(ref context);
            if (peer is not null)
            {
                return peer;
            }

            position++;
        }

        return null;
    }

    private static Cluster? ClusterAt(Upstream upstream, IReadOnlyList<string>? order, ref int position)
    {
        if (order is null)
        {
            return position < upstream.Clusters.Length ? upstream.Clusters[position] : null;
        }

        for (; position < order.Count; position++)
        {
            if (order[position] is { } name && upstream.FindCluster(name) is { } cluster)
            {
                return cluster;
            }
        }

        return null;
    }

    /// <summary>Marks the servers of <paramref name="cluster"/> already tried in this call: the same host:port shares one health state, in any cluster and across snapshots.</summary>
    private static void MarkTried(Cluster cluster, IReadOnlyList<Server> tried, ref SelectionContext context)
    {
        foreach (var candidate in cluster.Servers)
        {
            foreach (var peer in tried)
            {
                if (ReferenceEquals(peer.Health, candidate.Health))
                {
                    context.Tried.Add(candidate.Index);
                    break;
                }
            }
        }
    }

    private static Func<TResult, bool>? GetClassifier<TResult>(ExecuteOptions? options)
    {
        if (options is null || options.GetType() == typeof(ExecuteOptions))
        {
            return null;
        }

        if (options is ExecuteOptions<TResult> typed)
        {
            return typed.IsFailure;
        }

        throw new ArgumentException(
            $"The options classify results of another type ({options.GetType().Name}); this call returns {typeof(TResult).Name}.",
            nameof(options));
    }

    private static bool IsCallerCancellation(Exception ex, CancellationToken cancellationToken) =>
        ex is OperationCanceledException && cancellationToken.IsCancellationRequested;

    private static string NoSelectableReason(ExecuteOptions? options) =>
        options?.ClusterOrder is { } order
            ? $"no selectable server in clusters [{string.Join(", ", order)}]"
            : "no selectable server";
}
