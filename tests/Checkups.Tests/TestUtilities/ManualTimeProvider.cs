using System;
using System.Collections.Generic;
using System.Threading;

namespace Checkups.Tests.TestUtilities;

/// <summary>
/// A clock that moves only when a test says so. Timestamps are in ticks (frequency = TimeSpan.TicksPerSecond). Timers
/// (PeriodicTimer, CancellationTokenSource and Task.WaitAsync timeouts built on this provider) fire during
/// <see cref="Advance"/>, in due order, on the advancing thread.
/// </summary>
public sealed class ManualTimeProvider : TimeProvider
{
    private readonly object _gate = new();
    private readonly List<ManualTimer> _timers = new();
    private readonly DateTimeOffset _origin;
    private long _ticks;

    public ManualTimeProvider(DateTimeOffset? start = null)
    {
        _origin = start ?? new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);
        _ticks = 1;
    }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public override DateTimeOffset GetUtcNow() => _origin + TimeSpan.FromTicks(Interlocked.Read(ref _ticks));

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Moves the clock forward, firing every timer that comes due on the way (at most 100,000 firings).</summary>
    public void Advance(TimeSpan by)
    {
        long target = Interlocked.Read(ref _ticks) + by.Ticks;
        for (int fired = 0; fired < 100_000; fired++)
        {
            ManualTimer? next = null;
            lock (_gate)
            {
                foreach (var timer in _timers)
                {
                    if (timer.Due <= target && (next is null || timer.Due < next.Due))
                    {
                        next = timer;
                    }
                }

                if (next is null)
                {
                    break;
                }

                Interlocked.Exchange(ref _ticks, Math.Max(Interlocked.Read(ref _ticks), next.Due));
                if (next.Period > 0)
                {
                    next.Due += next.Period;
                }
                else
                {
                    _timers.Remove(next);
                }
            }

            next.Fire();
        }

        Interlocked.Exchange(ref _ticks, target);
    }

    private void Schedule(ManualTimer timer, TimeSpan dueTime, TimeSpan period)
    {
        lock (_gate)
        {
            _timers.Remove(timer);
            if (dueTime == Timeout.InfiniteTimeSpan)
            {
                return;
            }

            timer.Due = Interlocked.Read(ref _ticks) + Math.Max(0, dueTime.Ticks);
            timer.Period = period == Timeout.InfiniteTimeSpan ? 0 : period.Ticks;
            _timers.Add(timer);
        }
    }

    private void Cancel(ManualTimer timer)
    {
        lock (_gate)
        {
            _timers.Remove(timer);
        }
    }

    private sealed class ManualTimer(ManualTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        public long Due { get; set; }

        public long Period { get; set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            owner.Schedule(this, dueTime, period);
            return true;
        }

        public void Fire() => callback(state);

        public void Dispose() => owner.Cancel(this);

        public System.Threading.Tasks.ValueTask DisposeAsync()
        {
            Dispose();
            return default;
        }
    }
}
