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
/// lua-resty-checkups' <c>ready_ok</c> (<c>ExecuteAsync</c>) on the attempt engine (<see cref="UpstreamCall"/>): pick a server,
/// call back, judge the outcome, report it, and on failure move to another server of the cluster, then to the next
/// cluster, until the try limit or the try timeout runs out. Also the registry's accounting of every attempt, whoever
/// makes it: calls in flight, latency, passive health and the selector. A call whose callback completes synchronously
/// with a success allocates nothing.
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

        // Attempt timers on the registry's clock, reset and reused: an attempt costs no timer of its own.
        // An attempt keeps its timer while its I/O is out, so as many are out at once as attempts are in flight (32
        // callers of one HttpClient on two cores is 32): a pool sized for that, or each attempt beyond it makes a timer
        // and disposes one.
        Timers = new ObjectPool<CancellationTokenSource>(() => new CancellationTokenSource(Timeout.InfiniteTimeSpan, time), static source => source.TryReset(), perProcessor: 32);
    }

    /// <summary>Gets the registry's clock.</summary>
    public TimeProvider Time => _time;

    /// <summary>Gets the pool of attempt timers (<see cref="UpstreamCall.StartAttemptTimeout"/>).</summary>
    public ObjectPool<CancellationTokenSource> Timers { get; }

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
        var settings = CallSettings.From(options);

        // The engine's first attempt, without a call object: a call is adopted only when the first attempt does not succeed
        // at once, so a call that does allocates and pools nothing. The paths that adopt one are methods of their own, so
        // this one keeps a small frame (inlined, they made it a kilobyte to clear on every call).
        var server = UpstreamCall.First(this, upstream, hashKey, settings, out var first);
        if (server is null)
        {
            throw NoServer(upstream, settings);
        }

        ValueTask<TResult> pending;
        try
        {
            pending = callback(server, state, cancellationToken);
        }
        catch (Exception ex)
        {
            if (IsCallerCancellation(ex, cancellationToken))
            {
                Complete(first.Upstream, first.Cluster!, server, first.Started, LeaseOutcome.Cancelled, null);
                throw;
            }

            return Adopted(ref first, hashKey, settings, state, callback, isFailure, default, Threw, ex, cancellationToken);
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
                return Adopted(ref first, hashKey, settings, state, callback, isFailure, default, Threw, ex, cancellationToken);
            }

            if (!failedResult)
            {
                Complete(first.Upstream, first.Cluster!, server, first.Started, LeaseOutcome.Success, null);
                return new ValueTask<TResult>(result);
            }

            // The result was consumed above; hand the copy on, not the ValueTask a second time.
            return Adopted(ref first, hashKey, settings, state, callback, isFailure, new ValueTask<TResult>(result), FailedResult, null, cancellationToken);
        }

        return Adopted(ref first, hashKey, settings, state, callback, isFailure, pending, Pending, null, cancellationToken);
    }

    /// <summary>
    /// The error of a call whose first pick found no selectable server. Built from that pick, not by picking again: a
    /// server back at that instant would be leased (and counted in flight) by a call that then reports it has none.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static NoServerAvailableException NoServer(Upstream upstream, in CallSettings settings) =>
        new(upstream.Name, CallStopReason.NoSelectableServer, UpstreamCall.NoSelectableServer(settings.ClusterOrder), Array.Empty<UpstreamAttempt>());

    /// <summary>The first attempt did not succeed at once: a call adopts it, and the rest runs on the engine.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ValueTask<TResult> Adopted<TState, TResult>(
        ref UpstreamCall.FirstAttempt first,
        string? hashKey,
        in CallSettings settings,
        TState state,
        Func<Server, TState, CancellationToken, ValueTask<TResult>> callback,
        Func<TResult, bool>? isFailure,
        ValueTask<TResult> pending,
        int outcome,
        Exception? error,
        CancellationToken cancellationToken)
    {
        var call = UpstreamCall.Adopt(this, first, hashKey, settings, out var lease);
        return ContinueAsync(call, lease, state, callback, isFailure, pending, outcome, error, cancellationToken);
    }

    /// <summary>Reports one attempt's outcome to the server's health and to the selector of its cluster.</summary>
    public void Record(Upstream upstream, Cluster cluster, Server server, in CallOutcome outcome)
    {
        if (outcome.Failed)
        {
            // The last-ok guard judges the upstream as it is now, not as the call saw it: a server removed meanwhile
            // does not keep the last live one selectable.
            if (server.Health.RecordFailure(server, Latest(upstream) ?? upstream))
            {
                Log.ServerMarkedErr(_logger, server.Key, upstream.Name, server.MaxFails, server.FailTimeout);
            }

            cluster.Selector.OnCompleted(server, outcome);
            return;
        }

        server.Health.RecordSuccess();
        if (cluster.Selector.ObservesCalls)
        {
            cluster.Selector.OnCompleted(server, outcome);
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
        return NextServer(upstream, order, ref position, ref cluster, ref context, tried);
    }

    /// <summary>The upstream's current snapshot, one volatile read; <see langword="null"/> when it was removed.</summary>
    internal Upstream? Latest(Upstream upstream) => _store.Current.Upstreams.GetValueOrDefault(upstream.Name);

    /// <summary>Starts a lease on a picked server: counted in flight as a try-loop attempt is.</summary>
    public UpstreamLease Lease(Upstream upstream, Cluster cluster, Server server) =>
        new(this, upstream, cluster, server, Start(cluster, server));

    /// <summary>A caller's measured duration in the clock's timestamp units (never negative).</summary>
    private long ToTimestampTicks(TimeSpan elapsed) =>
        Math.Max(0, (long)(elapsed.Ticks * (_time.TimestampFrequency / (double)TimeSpan.TicksPerSecond)));

    /// <summary>Completes a lease: the same accounting as the end of a try-loop attempt.</summary>
    public void Complete(Upstream upstream, Cluster cluster, Server server, long started, LeaseOutcome outcome, TimeSpan? elapsed)
    {
        if (outcome == LeaseOutcome.Cancelled)
        {
            Release(cluster, server);
            return;
        }

        bool failed = outcome == LeaseOutcome.Failure;
        server.Health.CallEnded();
        if (!cluster.Selector.ObservesCalls)
        {
            if (!failed && elapsed is { } given)
            {
                // The caller measured the call: the status shows it, at no clock read of ours.
                server.Health.RecordLatency(ToTimestampTicks(given));
            }

            Record(upstream, cluster, server, new CallOutcome(failed, 0));
            return;
        }

        long duration = elapsed is { } measured ? ToTimestampTicks(measured) : _time.GetTimestamp() - started;
        if (!failed)
        {
            server.Health.RecordLatency(duration);
        }

        Record(upstream, cluster, server, new CallOutcome(failed, duration, started: true));
    }

    /// <summary>Starts an attempt: the server counts it in flight (for every mode, and the status), its selector hears of it when it follows calls.</summary>
    internal long Start(Cluster cluster, Server server)
    {
        server.Health.CallStarted();
        if (!cluster.Selector.ObservesCalls)
        {
            return 0;
        }

        cluster.Selector.OnStarted(server);
        return _time.GetTimestamp();
    }

    /// <summary>The caller cancelled: not a failure, but no longer in flight, and a selector that counts calls must hear of it.</summary>
    private static void Release(Cluster cluster, Server server)
    {
        server.Health.CallEnded();
        if (cluster.Selector.ObservesCalls)
        {
            cluster.Selector.OnCompleted(server, new CallOutcome(false, 0, cancelled: true, started: true));
        }
    }

    /// <summary>The call's error, its call given back to the pool.</summary>
    private static UpstreamCallException Ended(UpstreamCall call, object? lastResult)
    {
        var error = call.ToException(lastResult);
        call.Dispose();
        return error;
    }

    /// <remarks>
    /// The state machine is pooled: a call that goes asynchronous allocates nothing of its own once the pool is warm
    /// (about 300 bytes per call otherwise). The caller's <see cref="ValueTask{TResult}"/> must be awaited once, as any
    /// <see cref="ValueTask{TResult}"/>.
    /// </remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<TResult> ContinueAsync<TState, TResult>(
        UpstreamCall call,
        UpstreamLease lease,
        TState state,
        Func<Server, TState, CancellationToken, ValueTask<TResult>> callback,
        Func<TResult, bool>? isFailure,
        ValueTask<TResult> pending,
        int outcome,
        Exception? error,
        CancellationToken cancellationToken)
    {
        try
        {
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
                            lease.Complete(LeaseOutcome.Cancelled);
                            throw;
                        }

                        failed = true;
                        error = ex;
                    }
                }

                if (!failed)
                {
                    lease.Complete(LeaseOutcome.Success);
                    return result;
                }

                lease.Complete(LeaseOutcome.Failure, error);
                object? lastResult = error is null ? result : null;
                if (!call.TryNext(out lease))
                {
                    throw call.ToException(lastResult);
                }

                if (cancellationToken.IsCancellationRequested)
                {
                    // The caller gave up between attempts: not a failure of the server just picked.
                    lease.Complete(LeaseOutcome.Cancelled);
                    cancellationToken.ThrowIfCancellationRequested();
                }

                error = null;
                outcome = Pending;
                try
                {
                    pending = callback(lease.Server, state, cancellationToken);
                }
                catch (Exception ex)
                {
                    if (IsCallerCancellation(ex, cancellationToken))
                    {
                        lease.Complete(LeaseOutcome.Cancelled);
                        throw;
                    }

                    outcome = Threw;
                    error = ex;
                }
            }
        }
        finally
        {
            call.Dispose();
        }
    }

    /// <summary>
    /// Asks the current cluster for a server; when it has none left, moves along the cluster order. A server that
    /// already failed in this call is skipped in later clusters too (the same host:port may sit in several).
    /// </summary>
    internal static Server? NextServer(
        Upstream upstream,
        IReadOnlyList<string>? order,
        ref int position,
        ref Cluster? cluster,
        ref SelectionContext context,
        IReadOnlyList<Server>? tried)
    {
        if (cluster is not null)
        {
            var server = cluster.Selector.Pick(ref context);
            if (server is not null)
            {
                return server;
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

            var server = cluster.Selector.Pick(ref context);
            if (server is not null)
            {
                return server;
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
            foreach (var server in tried)
            {
                if (ReferenceEquals(server.Health, candidate.Health))
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
}
