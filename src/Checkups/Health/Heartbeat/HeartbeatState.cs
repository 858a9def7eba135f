using System;
using System.Threading;

namespace Checkups.Health.Heartbeat;

/// <summary>What the heartbeat loop reports about itself: when it last finished a round, and whether it runs.</summary>
internal sealed class HeartbeatState
{
    private long _lastCheckTicks = long.MinValue;
    private int _alive;

    /// <summary>Gets when the last round ended; <see langword="null"/> before the first.</summary>
    public DateTimeOffset? LastCheckTime
    {
        get
        {
            long ticks = Interlocked.Read(ref _lastCheckTicks);
            return ticks == long.MinValue ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    /// <summary>Gets whether the loop runs.</summary>
    public bool Alive => Volatile.Read(ref _alive) == 1;

    public void RoundCompleted(DateTimeOffset time) => Interlocked.Exchange(ref _lastCheckTicks, time.UtcTicks);

    public void SetAlive(bool alive) => Volatile.Write(ref _alive, alive ? 1 : 0);
}
