using System;

namespace Checkups.Benchmarks;

/// <summary>A clock for simulations: it stands still until the simulation sets it. Timestamps are TimeSpan ticks.</summary>
internal sealed class VirtualClock : TimeProvider
{
    private static readonly DateTimeOffset Origin = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public long Ticks { get; set; } = 1;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Ticks;

    public override DateTimeOffset GetUtcNow() => Origin + TimeSpan.FromTicks(Ticks);
}
