using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Diagnostics;
using Checkups.Health.Probes;
using Checkups.Model;
using Checkups.Registry;
using Checkups.Status;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Checkups.Health.Heartbeat;

/// <summary>
/// The active health check (lua-resty-checkups' heartbeat): one background loop. Every <c>HeartbeatInterval</c> one
/// round probes every server of every upstream whose heartbeat is on, concurrently up to <c>HeartbeatConcurrency</c>,
/// each probe bounded by its upstream's connect timeout. Rounds never overlap: a round that outlasts the interval is
/// followed by the next one at once, missed ticks are not made up. One round runs in <see cref="StartAsync"/>, so the
/// first picks already know dead servers. Each round reads the store afresh, so run-time changes are picked up by the
/// next round; results for servers removed meanwhile are dropped.
/// </summary>
internal sealed class HeartbeatService : IHostedService, IDisposable
{
    private readonly UpstreamStore _store;
    private readonly HeartbeatState _state;
    private readonly Dictionary<string, IHealthProbe> _probes;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CheckupsMetrics _metrics;
    private CancellationTokenSource? _stopping;
    private Task? _loop;

    public HeartbeatService(
        UpstreamRegistry registry,
        IEnumerable<IHealthProbe> probes,
        TimeProvider time,
        CheckupsMetrics metrics,
        ILogger<HeartbeatService>? logger = null)
    {
        _store = registry.Store;
        _state = registry.Heartbeat;
        _time = time;
        _metrics = metrics;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _probes = new Dictionary<string, IHealthProbe>(StringComparer.OrdinalIgnoreCase);
        foreach (var probe in probes)
        {
            // Registered later wins, so an application can replace a built-in probe.
            _probes[probe.Type] = probe;
        }
    }

    /// <summary>Raised after every round, with the number of rounds run so far (for tests and diagnostics).</summary>
    internal event Action<int>? RoundCompleted;

    internal int Rounds { get; private set; }

    /// <summary>How much longer than its longest probe timeout host start waits for the first round.</summary>
    internal static readonly TimeSpan StartMargin = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Starts the loop. The first round runs now, and start waits for it at most the longest probe timeout (plus
    /// <see cref="StartMargin"/>): enough for every probe that can answer to answer, so the first picks know dead servers,
    /// while a round over many silent servers (more of them than run at once) finishes in the background.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _stopping = new CancellationTokenSource();
        var first = RunRoundAsync(_stopping.Token);

        // Alive from here: the loop's own end (stop, or a cancelled first round) is what turns it off.
        _state.SetAlive(true);
        _loop = LoopAsync(first, _stopping.Token);
        var bound = LongestProbeTimeout() + StartMargin;
        if (bound > Configuration.CheckupsOptionsValidator.MaxTimerSpan)
        {
            bound = Configuration.CheckupsOptionsValidator.MaxTimerSpan;
        }

        try
        {
            await first.WaitAsync(bound, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Log.FirstRoundStillRunning(_logger, bound);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
            throw;
        }
#pragma warning disable CA1031 // The first round's failure is logged by the loop, which goes on; start does not fail for it.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private TimeSpan LongestProbeTimeout()
    {
        var longest = TimeSpan.Zero;
        foreach (var upstream in _store.Current.Upstreams.Values)
        {
            if (upstream.HeartbeatEnabled && upstream.Timeouts.Connect > longest)
            {
                longest = upstream.Timeouts.Connect;
            }
        }

        return longest;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_stopping is null)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is null)
        {
            return;
        }

        try
        {
            await _loop.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The host gave up waiting; the loop ends on its own once its probes see the cancellation.
        }
    }

    public void Dispose() => _stopping?.Dispose();

    /// <summary>Probes every server of every upstream with a heartbeat once, then applies the verdicts.</summary>
    internal async Task RunRoundAsync(CancellationToken cancellationToken)
    {
        long started = _time.GetTimestamp();
        var work = new List<(Upstream Upstream, Server Server)>();
        foreach (var upstream in _store.Current.Upstreams.Values)
        {
            if (!upstream.HeartbeatEnabled)
            {
                continue;
            }

            var seen = new HashSet<ServerHealth>(ReferenceEqualityComparer.Instance);
            foreach (var cluster in upstream.Clusters)
            {
                foreach (var server in cluster.Servers)
                {
                    // A host:port listed in several clusters shares one health state: probe it once.
                    if (seen.Add(server.Health))
                    {
                        work.Add((upstream, server));
                    }
                }
            }
        }

        var results = new ProbeResult[work.Count];
        using (var slots = new SemaphoreSlim(Math.Max(1, _store.Settings.HeartbeatConcurrency)))
        {
            var probes = new Task[work.Count];
            for (int i = 0; i < work.Count; i++)
            {
                probes[i] = ProbeWithSlotAsync(work, results, i, slots, cancellationToken);
            }

            await Task.WhenAll(probes).ConfigureAwait(false);
        }

        Apply(work, results);
        _state.RoundCompleted(_time.GetUtcNow());
        _metrics.RoundCompleted(_time.GetElapsedTime(started));
        Rounds++;
        RoundCompleted?.Invoke(Rounds);
    }

    private async Task LoopAsync(Task first, CancellationToken stopping)
    {
        try
        {
            // Rounds never overlap: the timer starts once the first round (started by StartAsync) has ended.
            await first.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stopping.IsCancellationRequested)
        {
            Log.HeartbeatRoundFailed(_logger, ex);
        }
        catch (OperationCanceledException)
        {
            _state.SetAlive(false);
            return;
        }

        var interval = _store.Settings.HeartbeatInterval;
        using var timer = new PeriodicTimer(interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                try
                {
                    await RunRoundAsync(stopping).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stopping.IsCancellationRequested)
                {
                    Log.HeartbeatRoundFailed(_logger, ex);
                }

                if (_store.Settings.HeartbeatInterval != interval)
                {
                    interval = _store.Settings.HeartbeatInterval;
                    timer.Period = interval;
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        finally
        {
            _state.SetAlive(false);
        }
    }

    private async Task ProbeWithSlotAsync(List<(Upstream Upstream, Server Server)> work, ProbeResult[] results, int index, SemaphoreSlim slots, CancellationToken cancellationToken)
    {
        await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            results[index] = await ProbeAsync(work[index].Upstream, work[index].Server, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            slots.Release();
        }
    }

    private async Task<ProbeResult> ProbeAsync(Upstream upstream, Server server, CancellationToken cancellationToken)
    {
        var options = upstream.Source.Heartbeat;
        var timeout = upstream.Timeouts.Connect;
        long started = _time.GetTimestamp();
        ProbeResult result;
        if (!_probes.TryGetValue(options.Type, out var probe))
        {
            result = ProbeResult.Failure($"no probe of type '{options.Type}' is registered");
        }
        else
        {
            var deadline = new CancellationTokenSource(timeout, _time);
            var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
            Task<ProbeResult>? probing = null;
            try
            {
                // WaitAsync bounds even a probe that ignores its token, so a round always ends.
                probing = probe.ProbeAsync(new ProbeContext(upstream, server, options, timeout), linked.Token).AsTask();
                result = await probing.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false)
                    ?? ProbeResult.Failure($"the probe of type '{options.Type}' returned no result");
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                result = ex is TimeoutException || (ex is OperationCanceledException && deadline.IsCancellationRequested)
                    ? ProbeResult.Failure(string.Create(CultureInfo.InvariantCulture, $"timeout after {timeout.TotalMilliseconds:0.###} ms"))
                    : ProbeResult.Failure(string.IsNullOrEmpty(ex.Message) ? ex.GetType().Name : ex.Message);
            }
            finally
            {
                if (probing is { IsCompleted: false })
                {
                    // The wait ended first (the timeout, or the host stopping): tell the probe to stop now, so it closes its
                    // socket instead of running on with a token nobody cancels. Its cancellation callbacks run off this
                    // thread (one that throws or blocks cannot hold the round), and the sources go once they have run.
                    _ = linked.CancelAsync().ContinueWith(
                        static (cancelling, state) =>
                        {
                            _ = cancelling.Exception;
                            var (l, d) = ((CancellationTokenSource, CancellationTokenSource))state!;
                            l.Dispose();
                            d.Dispose();
                        },
                        (linked, deadline),
                        CancellationToken.None,
                        TaskContinuationOptions.None,
                        TaskScheduler.Default);
                    _ = probing.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                }
                else
                {
                    linked.Dispose();
                    deadline.Dispose();
                }
            }
        }

        // Whatever a server sent is quoted printable and capped, in the status and in the logs alike.
        result = result.Sanitized();
        _metrics.ProbeCompleted(_time.GetElapsedTime(started), upstream.Name, options.Type, result.Status);
        return result;
    }

    /// <summary>
    /// Applies a round's verdicts to the servers still in their upstreams. The protected rule is decided first: when every
    /// server of an upstream (not counting administratively down ones) would end the round <c>err</c>, the first server not
    /// down is recorded as <c>unstable</c> instead, so there is never a moment with no selectable server.
    /// </summary>
    private void Apply(List<(Upstream Upstream, Server Server)> work, ProbeResult[] results)
    {
        var byUpstream = new Dictionary<string, (Upstream Current, List<(Server Server, ProbeResult Result)> Verdicts)>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < work.Count; i++)
        {
            var (probed, server) = work[i];
            if (!_store.Current.Upstreams.TryGetValue(probed.Name, out var current) || !current.HeartbeatEnabled
                || !current.Health.TryGetValue(server.Key, out var health) || !ReferenceEquals(health, server.Health))
            {
                continue;
            }

            if (!byUpstream.TryGetValue(current.Name, out var group))
            {
                byUpstream[current.Name] = group = (current, new List<(Server, ProbeResult)>());
            }

            group.Verdicts.Add((server, results[i]));
        }

        foreach (var (upstream, verdicts) in byUpstream.Values)
        {
            int sensibility = Math.Max(1, upstream.Source.Heartbeat.Sensibility);
            var kept = upstream.Protected && AllWouldFail(verdicts, sensibility) ? KeptByProtection(upstream) : null;
            foreach (var (server, result) in verdicts)
            {
                bool protect = kept is not null && ReferenceEquals(kept.Health, server.Health);
                var (before, after) = server.Health.RecordProbe(result, sensibility, protect);
                if (protect && before != after)
                {
                    Log.UpstreamProtected(_logger, upstream.Name, server.Key);
                }

                Report(upstream.Name, server, before, after, result.Message);
            }
        }
    }

    private static bool AllWouldFail(List<(Server Server, ProbeResult Result)> verdicts, int sensibility)
    {
        bool any = false;
        foreach (var (server, result) in verdicts)
        {
            if (server.Down)
            {
                continue;
            }

            any = true;

            // A server out of rotation by passive accounting counts as failing too, whatever its probe said: protection
            // judges what callers can use, passive and active verdicts alike.
            long now = 0;
            if (!server.Health.IsPassiveErr(ref now) && !server.Health.WouldFail(result, sensibility))
            {
                return false;
            }
        }

        return any;
    }

    /// <summary>
    /// The server protection keeps: the first in default order that is neither administratively down nor out by passive
    /// accounting (so keeping it makes it selectable), else the first not down.
    /// </summary>
    private static Server? KeptByProtection(Upstream upstream)
    {
        Server? fallback = null;
        long now = 0;
        foreach (var cluster in upstream.Clusters)
        {
            foreach (var server in cluster.Servers)
            {
                if (server.Down)
                {
                    continue;
                }

                if (!server.Health.IsPassiveErr(ref now))
                {
                    return server;
                }

                fallback ??= server;
            }
        }

        return fallback;
    }

    private void Report(string upstream, Server server, string? before, string after, string? message)
    {
        string previous = before ?? HealthStatus.Ok;
        if (previous == after)
        {
            return;
        }

        _metrics.StatusChanged(upstream, after);
        if (after == HealthStatus.Ok)
        {
            Log.ServerRecovered(_logger, server.Key, upstream, after, previous);
        }
        else
        {
            Log.ServerStatusChanged(_logger, server.Key, upstream, after, previous, message);
        }
    }
}
