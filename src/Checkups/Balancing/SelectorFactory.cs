using System;
using Checkups.Configuration;
using Checkups.Model;

namespace Checkups.Balancing;

/// <summary>Builds the selector of a cluster for an upstream's balancing mode.</summary>
internal static class SelectorFactory
{
    private static readonly string[] Modes =
    {
        BalancingModes.WeightedRoundRobin,
        BalancingModes.Hash,
        BalancingModes.UrlHash,
        BalancingModes.IpHash,
        BalancingModes.HeaderHash,
        BalancingModes.Fastest,
        BalancingModes.LocalFirst,
        BalancingModes.LeastRequests,
        BalancingModes.PowerOfTwoChoices,
    };

    /// <summary>The mode names accepted in configuration, for error messages.</summary>
    public static string KnownModes { get; } = string.Join(", ", Modes);

    public static bool IsKnown(string? mode) => Find(mode) is not null;

    /// <summary>Returns the canonical spelling of a known mode name (modes compare case-insensitively).</summary>
    public static string Canonical(string mode) =>
        Find(mode) ?? throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown balancing mode.");

    /// <summary>Which hash of the call's key the upstream's selectors read.</summary>
    public static KeyHashing KeyHashingFor(string mode, UpstreamOptions options) =>
        !BalancingModes.IsHashing(mode) ? KeyHashing.None
        : options.Hash.Algorithm == HashAlgorithms.Ketama ? KeyHashing.Crc32
        : KeyHashing.XxHash64;

    public static ServerSelector Create(string mode, Cluster cluster, UpstreamOptions options, BalancingEnvironment environment) => mode switch
    {
        BalancingModes.WeightedRoundRobin => SmoothWeightedRoundRobin.Create(cluster.Servers),
        BalancingModes.Hash or BalancingModes.UrlHash or BalancingModes.IpHash or BalancingModes.HeaderHash =>
            options.Hash.Algorithm == HashAlgorithms.Ketama
                ? new KetamaSelector(cluster.Servers)
                : new MaglevSelector(cluster.Servers, options.Hash.TableSize, options.Hash.BalanceFactor),
        BalancingModes.Fastest => new FastestResponse(cluster.Servers, options.Fastest, environment),
        BalancingModes.LocalFirst => new LocalFirst(cluster.Servers, options.LocalFirst.PanicThreshold, environment),
        BalancingModes.LeastRequests => new LeastRequests(cluster.Servers),
        BalancingModes.PowerOfTwoChoices => new PowerOfTwoChoices(cluster.Servers, environment),
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown balancing mode."),
    };

    private static string? Find(string? mode)
    {
        foreach (string known in Modes)
        {
            if (string.Equals(known, mode, StringComparison.OrdinalIgnoreCase))
            {
                return known;
            }
        }

        return null;
    }
}

/// <summary>What selectors need from the process: the clock, randomness and which servers are local.</summary>
/// <param name="Time">The clock.</param>
/// <param name="Random">The source of randomness (seeded in simulations and tests).</param>
/// <param name="Locality">Which servers count as local.</param>
internal sealed record BalancingEnvironment(TimeProvider Time, RandomSource Random, Locality Locality);
