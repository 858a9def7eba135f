using System;
using System.Collections.Frozen;
using System.Collections.Generic;
using System.Threading;
using Checkups.Health.Probes;
using Checkups.Model;
using Checkups.Status;

namespace Checkups.Health;

/// <summary>
/// Live health of one server of one upstream (found by host:port). It outlives topology snapshots:
/// an update that keeps the server hands the same object to the new snapshot.
/// Passive accounting follows lua-resty-checkups: failures are counted in a window of
/// <c>fail_timeout</c> starting at the first failure; at <c>max_fails</c> the server is <c>err</c>
/// for <c>fail_timeout</c>, unless it is the last selectable server of its upstream.
/// </summary>
internal sealed class ServerHealth
{
    private readonly TimeProvider _time;
    private readonly UpstreamHealth _gate;

    // Written under the upstream's health gate; read lock-free by picks. 0 = not err.
    private long _errUntil;
    private int _fails;
    private long _windowStart;
    private DateTimeOffset _errUntilUtc;
    private DateTimeOffset _lastModified;
    private int _errFails;
    private int _inFlight;
    private long _recentLatency;

    // Active (heartbeat) state: written by the heartbeat round under the gate, read lock-free by picks (_activeErr).
    private int _activeErr;
    private string? _activeStatus;
    private string? _activeMessage;
    private int _probeFailures;
    private DateTimeOffset _activeLastModified;
    private IReadOnlyDictionary<string, string> _fields = NoFields;
    private bool _activeChecks = true;

    private static readonly IReadOnlyDictionary<string, string> NoFields = FrozenDictionary<string, string>.Empty;

    public ServerHealth(TimeProvider time, UpstreamHealth upstream)
    {
        _time = time;
        _gate = upstream;
        _lastModified = time.GetUtcNow();
    }

    /// <summary>Gets the health of the upstream this server belongs to: its lock, and the epoch its selectors watch.</summary>
    public UpstreamHealth Upstream => _gate;

    /// <summary>Gets the clock the health timestamps come from.</summary>
    public TimeProvider Time => _time;

    /// <summary>
    /// Gets when a server that is out comes back by time alone: the end of its passive <c>err</c> (a
    /// <see cref="TimeProvider"/> timestamp), or 0 when nothing but an event brings it back (an active verdict, which
    /// moves the upstream's <see cref="UpstreamHealth.SelectableEpoch"/>) or it is not out by passive accounting.
    /// </summary>
    public long RevivesAt => Volatile.Read(ref _activeErr) != 0 ? 0 : Volatile.Read(ref _errUntil);

    /// <summary>Gets the number of calls to this server in flight, across the snapshots that share it.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Gets the server's latency average, for the fastest-response mode.</summary>
    public PeakEwma Latency { get; } = new();

    public void CallStarted() => Interlocked.Increment(ref _inFlight);

    /// <summary>
    /// Folds a successful call's duration into the recent latency shown in the status: an exponential average over about
    /// the last eight calls. Racing writers may drop a sample, which a display average can afford.
    /// </summary>
    public void RecordLatency(long timestampTicks)
    {
        long previous = Volatile.Read(ref _recentLatency);
        Volatile.Write(ref _recentLatency, previous == 0 ? Math.Max(1, timestampTicks) : Math.Max(1, previous + ((timestampTicks - previous) / 8)));
    }

    /// <summary>Gets the recent latency in milliseconds, or <see langword="null"/> when no call reported one.</summary>
    public double? RecentLatencyMs
    {
        get
        {
            long ticks = Volatile.Read(ref _recentLatency);
            return ticks == 0 ? null : Math.Round(ticks * 1000.0 / _time.TimestampFrequency, 3);
        }
    }

    public void CallEnded() => Interlocked.Decrement(ref _inFlight);

    /// <summary>
    /// Whether passive accounting has the server out of rotation. <paramref name="now"/> is read from the
    /// clock only when needed (0 = not read yet), so a pick over healthy servers never reads the clock.
    /// </summary>
    public bool IsPassiveErr(ref long now)
    {
        long until = Volatile.Read(ref _errUntil);
        if (until == 0)
        {
            return false;
        }

        if (now == 0)
        {
            now = _time.GetTimestamp();
        }

        return now < until;
    }

    /// <summary>Whether a pick may choose the server: not down, and neither passive nor active status <c>err</c>.</summary>
    public static bool IsSelectable(Server server, ref long now) =>
        !server.Down && Volatile.Read(ref server.Health._activeErr) == 0 && !server.Health.IsPassiveErr(ref now);

    /// <summary>Whether applying <paramref name="result"/> would leave the server <c>err</c> (for the protected rule).</summary>
    public bool WouldFail(ProbeResult result, int sensibility)
    {
        lock (_gate)
        {
            return result.Failed && _probeFailures + 1 >= sensibility;
        }
    }

    /// <summary>
    /// Applies one probe's verdict. A failure turns the status to <c>err</c> only at <paramref name="sensibility"/>
    /// consecutive failures; a success or an <c>unstable</c> verdict resets the count and ends a passive <c>err</c>. With <paramref name="protect"/>
    /// (every server of the upstream fails and this is the one kept), <c>err</c> becomes <c>unstable</c>. Ignored while
    /// the server's upstream has no active checks. Returns the status before and after.
    /// </summary>
    public (string? Before, string After) RecordProbe(ProbeResult result, int sensibility, bool protect = false)
    {
        lock (_gate)
        {
            string? before = _activeStatus;
            if (!_activeChecks)
            {
                // The heartbeat was turned off while this verdict was on its way.
                return (before, before ?? HealthStatus.Ok);
            }

            string after;
            string? message;
            if (!result.Failed)
            {
                // As lua-resty-checkups, where a probe and passive accounting write one status: a server the heartbeat
                // finds alive is back, whatever passive accounting counted (a restarted server need not sit out its
                // fail timeout while it already serves).
                _probeFailures = 0;
                after = result.Status;
                message = result.Message;
                _fails = 0;
                long now = 0;
                if (IsPassiveErr(ref now))
                {
                    _lastModified = _time.GetUtcNow();
                }

                Revive(ref _errUntil);
            }
            else if (++_probeFailures >= sensibility)
            {
                after = HealthStatus.Err;
                message = result.Message;
            }
            else
            {
                // Failing, but not yet sensibility times in a row: the status stands.
                after = before ?? HealthStatus.Ok;
                message = before is null ? null : _activeMessage;
            }

            if (protect && after == HealthStatus.Err)
            {
                // As lua-resty-checkups: the status says protected (unstable), the message stays the probe's own.
                after = HealthStatus.Unstable;
            }

            _fields = result.Fields;
            SetActive(after, message);
            return (before, after);
        }
    }

    /// <summary>
    /// Turns active checks on or off for this server (its upstream's heartbeat setting). Off forgets the active verdict,
    /// which would otherwise hold the server out of rotation for good, and makes late verdicts be ignored.
    /// </summary>
    public void SetActiveChecks(bool enabled)
    {
        lock (_gate)
        {
            _activeChecks = enabled;
            if (enabled || _activeStatus is null)
            {
                return;
            }

            _probeFailures = 0;
            _fields = NoFields;
            _activeMessage = null;
            _activeStatus = null;
            _activeLastModified = _time.GetUtcNow();
            Revive(ref _activeErr);
        }
    }

    private void SetActive(string status, string? message)
    {
        if (status != _activeStatus)
        {
            _activeLastModified = _time.GetUtcNow();
        }

        _activeStatus = status;
        _activeMessage = message;
        if (status == HealthStatus.Err)
        {
            if (Interlocked.Exchange(ref _activeErr, 1) == 0)
            {
                _gate.SelectableChanged();
            }
        }
        else
        {
            Revive(ref _activeErr);
        }
    }

    /// <summary>Clears an out-of-rotation mark; when one was set, moves the upstream's epoch (after the write).</summary>
    private void Revive(ref int mark)
    {
        if (Interlocked.Exchange(ref mark, 0) != 0)
        {
            _gate.SelectableChanged();
        }
    }

    private void Revive(ref long mark)
    {
        if (Interlocked.Exchange(ref mark, 0) != 0)
        {
            _gate.SelectableChanged();
        }
    }

    /// <summary>Counts a failure; returns <see langword="true"/> when this failure marked the server <c>err</c>.</summary>
    public bool RecordFailure(Server server, Upstream upstream)
    {
        if (server.MaxFails == 0)
        {
            return false;
        }

        long failTicks = ToTicks(server.FailTimeout);
        lock (_gate)
        {
            long now = _time.GetTimestamp();
            if (_fails == 0 || now - _windowStart >= failTicks)
            {
                _fails = 0;
                _windowStart = now;
            }

            _fails++;
            if (_fails < server.MaxFails || IsPassiveErr(ref now) || !AnotherServerSelectable(upstream, now))
            {
                return false;
            }

            var nowUtc = _time.GetUtcNow();
            _errUntilUtc = AddSaturated(nowUtc, server.FailTimeout);
            _lastModified = nowUtc;
            // The message is written when a status is read: marking a server err allocates nothing.
            _errFails = _fails;
            Volatile.Write(ref _errUntil, Math.Max(1, now + failTicks));
            _gate.SelectableChanged();
            return true;
        }
    }

    /// <summary>Counts a success: clears the failure window and any passive <c>err</c>.</summary>
    public void RecordSuccess()
    {
        if (Volatile.Read(ref _fails) == 0 && Volatile.Read(ref _errUntil) == 0)
        {
            return;
        }

        lock (_gate)
        {
            _fails = 0;
            long now = 0;
            if (IsPassiveErr(ref now))
            {
                _lastModified = _time.GetUtcNow();
            }

            Revive(ref _errUntil);
        }
    }

    /// <summary>Reads the status of the server for reports.</summary>
    public ServerStatus GetStatus(Server server, string upstream, bool heartbeatEnabled)
    {
        lock (_gate)
        {
            long now = _time.GetTimestamp();
            int fails = _fails > 0 && now - _windowStart < ToTicks(server.FailTimeout) ? _fails : 0;
            string status;
            string? message = null;
            var lastModified = _lastModified;
            if (_errUntil != 0 && !IsPassiveErr(ref now) && _errUntilUtc > lastModified)
            {
                lastModified = _errUntilUtc;
            }

            if (_activeStatus is not null && _activeLastModified > lastModified)
            {
                lastModified = _activeLastModified;
            }

            if (server.Down)
            {
                status = HealthStatus.Err;
                message = "down";
            }
            else if (IsPassiveErr(ref now))
            {
                status = HealthStatus.Err;
                message = string.Create(
                    System.Globalization.CultureInfo.InvariantCulture,
                    $"{_errFails} failure{(_errFails == 1 ? string.Empty : "s")} within {(server.FailTimeout == TimeSpan.MaxValue ? "an unlimited fail timeout" : server.FailTimeout.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) + "s")}");
            }
            else if (_activeStatus is HealthStatus.Err or HealthStatus.Unstable)
            {
                status = _activeStatus;
                message = _activeMessage;
            }
            else if (fails > 0)
            {
                status = HealthStatus.Unstable;
                message = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{fails} recent failure{(fails == 1 ? string.Empty : "s")}");
            }
            else if (server.UnstableReason is { } reason)
            {
                status = HealthStatus.Unstable;
                message = reason;
            }
            else
            {
                status = heartbeatEnabled ? HealthStatus.Ok : HealthStatus.Unchecked;
            }

            return new ServerStatus(
                string.Concat(upstream, ":", server.Key),
                status,
                message,
                lastModified,
                Math.Max(fails, _probeFailures),
                server.Weight,
                server.MaxFails,
                server.FailTimeout,
                InFlight,
                _fields,
                RecentLatencyMs);
        }
    }

    private bool AnotherServerSelectable(Upstream upstream, long now)
    {
        foreach (var cluster in upstream.Clusters)
        {
            foreach (var other in cluster.Servers)
            {
                if (!ReferenceEquals(other.Health, this) && IsSelectable(other, ref now))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// A span in timestamp ticks, saturated: <see cref="TimeSpan.MaxValue"/> (a fail timeout of "never") would overflow the
    /// conversion, and the sums it takes part in stay below <see cref="long.MaxValue"/> for centuries of uptime.
    /// </summary>
    private long ToTicks(TimeSpan span)
    {
        double ticks = span.Ticks * (_time.TimestampFrequency / (double)TimeSpan.TicksPerSecond);
        return ticks >= NeverTicks ? NeverTicks : (long)ticks;
    }

    /// <summary>A quarter of the timestamp range: "never" for a window or an exclusion, with room to add a timestamp to it.</summary>
    private const long NeverTicks = long.MaxValue / 4;

    /// <summary><paramref name="now"/> plus <paramref name="span"/>, or the latest time there is.</summary>
    private static DateTimeOffset AddSaturated(DateTimeOffset now, TimeSpan span) =>
        span >= DateTimeOffset.MaxValue - now ? DateTimeOffset.MaxValue : now + span;
}
