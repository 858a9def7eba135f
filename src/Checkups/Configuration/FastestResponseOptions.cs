using System;

namespace Checkups.Configuration;

/// <summary>Tuning of the <c>fastest</c> mode (peak-sensitive moving average of latency, two random choices).</summary>
public sealed class FastestResponseOptions
{
    /// <summary>Gets or sets how fast the latency average forgets: a sample's weight falls to 1/e after this time.</summary>
    /// <value>Default 10 seconds.</value>
    public TimeSpan DecayTime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets the latency a failed call counts as, when it took less.</summary>
    /// <value>Default 1 second.</value>
    public TimeSpan FailurePenalty { get; set; } = TimeSpan.FromSeconds(1);
}
