using System;
using System.Collections.Frozen;
using System.Collections.Generic;
using System.Linq;
using Checkups.Configuration;
using Checkups.Model;

namespace Checkups.Balancing;

/// <summary>
/// The balancing modes a registry knows, by name (ignoring case): the built-in ones and those registered with it. Builds
/// each cluster's selector for its upstream's mode.
/// </summary>
internal sealed class SelectorCatalog
{
    private readonly FrozenDictionary<string, BalancingMode> _modes;

    public SelectorCatalog(IEnumerable<BalancingMode> custom)
    {
        var modes = new Dictionary<string, BalancingMode>(StringComparer.OrdinalIgnoreCase);
        foreach (var mode in BuiltInMode.All)
        {
            modes.Add(mode.Name, mode);
        }

        foreach (var mode in custom)
        {
            if (!modes.TryAdd(mode.Name, mode))
            {
                throw new ArgumentException(modes[mode.Name] is BuiltInMode
                    ? $"The balancing mode '{mode.Name}' ({mode.GetType().Name}) has the name of a built-in mode; give it a name of its own."
                    : $"Two balancing modes are named '{mode.Name}' ({modes[mode.Name].GetType().Name} and {mode.GetType().Name}).");
            }
        }

        _modes = modes.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        KnownModes = string.Join(", ", BuiltInMode.All.Select(m => m.Name).Concat(_modes.Values.Where(m => m is not BuiltInMode).Select(m => m.Name).Order(StringComparer.Ordinal)));
    }

    /// <summary>Gets the catalog of the built-in modes alone.</summary>
    public static SelectorCatalog BuiltIn { get; } = new(Array.Empty<BalancingMode>());

    /// <summary>Gets the mode names accepted, for error messages.</summary>
    public string KnownModes { get; }

    public bool IsKnown(string? mode) => mode is not null && _modes.ContainsKey(mode);

    /// <summary>Returns the spelling a known mode was registered with (modes compare ignoring case).</summary>
    public string Canonical(string mode) =>
        _modes.TryGetValue(mode, out var found) ? found.Name : throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown balancing mode.");

    /// <summary>Which hash of the call's key the upstream's selectors read.</summary>
    public KeyHashing KeyHashingFor(string mode, UpstreamOptions options) => _modes[mode].KeyHashingFor(options);

    public ServerSelector Create(string mode, Cluster cluster, UpstreamOptions options, BalancingEnvironment environment) =>
        _modes[mode].CreateSelector(cluster, options, environment)
            ?? throw new InvalidOperationException($"The balancing mode '{mode}' built no selector for cluster {cluster.Name}.");

    /// <summary>A built-in mode: its selectors see the registry's randomness and locality.</summary>
    private sealed class BuiltInMode : BalancingMode
    {
        private readonly Func<Cluster, UpstreamOptions, BalancingEnvironment, ServerSelector> _create;
        private readonly bool _hashing;

        private BuiltInMode(string name, bool hashing, Func<Cluster, UpstreamOptions, BalancingEnvironment, ServerSelector> create)
            : base(name)
        {
            _hashing = hashing;
            _create = create;
        }

        public static IReadOnlyList<BuiltInMode> All { get; } = new[]
        {
            new BuiltInMode(BalancingModes.WeightedRoundRobin, false, static (cluster, _, _) => SmoothWeightedRoundRobin.Create(cluster.Servers)),
            new BuiltInMode(BalancingModes.Hash, true, Hashing),
            new BuiltInMode(BalancingModes.UrlHash, true, Hashing),
            new BuiltInMode(BalancingModes.IpHash, true, Hashing),
            new BuiltInMode(BalancingModes.HeaderHash, true, Hashing),
            new BuiltInMode(BalancingModes.Fastest, false, static (cluster, options, environment) => new FastestResponse(cluster.Servers, options.Fastest, environment)),
            new BuiltInMode(BalancingModes.LocalFirst, false, static (cluster, options, environment) => new LocalFirst(cluster.Servers, options.LocalFirst.PanicThreshold, environment)),
            new BuiltInMode(BalancingModes.LeastRequests, false, static (cluster, _, _) => new LeastRequests(cluster.Servers)),
            new BuiltInMode(BalancingModes.PowerOfTwoChoices, false, static (cluster, _, environment) => new PowerOfTwoChoices(cluster.Servers, environment)),
        };

        public override bool UsesHashKey => _hashing;

        public override ServerSelector CreateSelector(Cluster cluster, UpstreamOptions options, TimeProvider time) =>
            throw new NotSupportedException("A built-in mode is built with the registry's environment.");

        internal override ServerSelector CreateSelector(Cluster cluster, UpstreamOptions options, BalancingEnvironment environment) =>
            _create(cluster, options, environment);

        internal override KeyHashing KeyHashingFor(UpstreamOptions options) =>
            !_hashing ? KeyHashing.None
            : options.Hash.Algorithm == HashAlgorithms.Ketama ? KeyHashing.Crc32
            : KeyHashing.XxHash64;

        private static ServerSelector Hashing(Cluster cluster, UpstreamOptions options, BalancingEnvironment environment) =>
            options.Hash.Algorithm == HashAlgorithms.Ketama
                ? new KetamaSelector(cluster.Servers)
                : new MaglevSelector(cluster.Servers, options.Hash.TableSize, options.Hash.BalanceFactor);
    }
}

/// <summary>What selectors need from the process: the clock, randomness, which servers are local, and the modes known.</summary>
/// <param name="Time">The clock.</param>
/// <param name="Random">The source of randomness (seeded in simulations and tests).</param>
/// <param name="Locality">Which servers count as local.</param>
/// <param name="Modes">The balancing modes upstreams may name.</param>
internal sealed record BalancingEnvironment(TimeProvider Time, RandomSource Random, Locality Locality, SelectorCatalog Modes);
