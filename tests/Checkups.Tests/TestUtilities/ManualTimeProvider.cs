using System;
using System.Threading;

namespace Checkups.Tests.TestUtilities;

/// <summary>A clock that moves only when a test says so. Timestamps are in ticks (frequency = TimeSpan.TicksPerSecond).</summary>
public sealed class ManualTimeProvider : TimeProvider
{
    private long _ticks;
    private readonly DateTimeOffset _origin;

    public ManualTimeProvider(DateTimeOffset? start = null)
    {
        _origin = start ?? new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);
        _ticks = 1;
    }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public override DateTimeOffset GetUtcNow() => _origin + TimeSpan.FromTicks(Interlocked.Read(ref _ticks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
