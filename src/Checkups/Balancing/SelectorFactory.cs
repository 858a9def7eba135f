using System;
using Checkups.Configuration;
using Checkups.Model;

namespace Checkups.Balancing;

/// <summary>Builds the selector of a cluster for an upstream's balancing mode.</summary>
internal static class SelectorFactory
{
    /// <summary>The mode names accepted in configuration, for error messages.</summary>
    public const string KnownModes = BalancingModes.WeightedRoundRobin;

    public static bool IsKnown(string? mode) =>
        string.Equals(mode, BalancingModes.WeightedRoundRobin, StringComparison.OrdinalIgnoreCase);

    /// <summary>Returns the canonical spelling of a known mode name (modes compare case-insensitively).</summary>
    public static string Canonical(string mode) =>
        IsKnown(mode) ? BalancingModes.WeightedRoundRobin : throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown balancing mode.");

    public static PeerSelector Create(string mode, Cluster cluster) => mode switch
    {
        BalancingModes.WeightedRoundRobin => new SmoothWeightedRoundRobin(cluster.Peers),
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown balancing mode."),
    };
}
