namespace Checkups.Configuration;

/// <summary>The names of the balancing modes an upstream can use (<see cref="UpstreamOptions.Mode"/>).</summary>
public static class BalancingModes
{
    /// <summary>Smooth weighted round robin, as nginx does it. The default.</summary>
    public const string WeightedRoundRobin = "wrr";
}
