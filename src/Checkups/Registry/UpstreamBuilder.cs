using System;
using System.Collections.Frozen;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using Checkups.Balancing;
using Checkups.Configuration;
using Checkups.Health;
using Checkups.Model;

namespace Checkups.Registry;

/// <summary>
/// Turns validated options into an immutable <see cref="Upstream"/> snapshot, off the hot path: builds the servers and
/// each cluster's selector, and hands over the live health of every server the previous snapshot already had.
/// </summary>
internal static class UpstreamBuilder
{
    private static readonly IReadOnlyDictionary<string, string> NoMetadata = FrozenDictionary<string, string>.Empty;

    public static Upstream Build(string name, UpstreamOptions source, Upstream? previous, long version, bool heartbeatDefault, BalancingEnvironment environment, string owner, string fingerprint)
    {
        var gate = previous?.HealthGate ?? new UpstreamHealth();
        bool heartbeat = source.Heartbeat.Enabled ?? heartbeatDefault;
        var health = new Dictionary<string, ServerHealth>(StringComparer.OrdinalIgnoreCase);
        string mode = environment.Modes.Canonical(source.Mode);
        var clusters = ImmutableArray.CreateBuilder<Cluster>();
        int serverCount = 0;

        void Add(string clusterName, int? level, IList<ServerOptions> options)
        {
            var built = ImmutableArray.CreateBuilder<Server>(options.Count);
            foreach (var server in options)
            {
                string host = Server.NormalizeHost(server.Host);
                string key = Server.FormatKey(host, server.Port);
                if (!health.TryGetValue(key, out var state))
                {
                    // A kept state is live: its active checks follow this upstream's heartbeat when the store commits it
                    // (UpstreamStore.Commit), not here, where the change may still be refused.
                    state = previous is not null && previous.Health.TryGetValue(key, out var kept) ? kept : new ServerHealth(environment.Time, gate);
                    health.Add(key, state);
                }

                var metadata = server.Metadata.Count == 0 ? NoMetadata : server.Metadata.ToFrozenDictionary(StringComparer.Ordinal);
                built.Add(new Server(name, clusterName, built.Count, host, server.Port, server.Weight, server.MaxFails, server.FailTimeout, server.Down, server.Zone, metadata, state, server.UnstableReason, server.Host));
            }

            serverCount += built.Count;
            var cluster = new Cluster(clusterName, level, built.MoveToImmutable());
            cluster.Selector = environment.Modes.Create(mode, cluster, source, environment);
            clusters.Add(cluster);
        }

        if (source.Servers.Count > 0)
        {
            Add("1", 1, source.Servers);
        }

        for (int i = 0; i < source.Clusters.Count; i++)
        {
            Add((i + 1).ToString(CultureInfo.InvariantCulture), i + 1, source.Clusters[i].Servers);
        }

        foreach (var (clusterName, cluster) in source.NamedClusters)
        {
            Add(clusterName, null, cluster.Servers);
        }

        var timeouts = new UpstreamTimeouts(source.Timeouts.Connect, source.Timeouts.Send, source.Timeouts.Read);
        return new Upstream(
            name,
            mode,
            source.NamedClusters.Count > 0,
            clusters.ToImmutable(),
            source.Protected,
            source.Try ?? serverCount,
            CheckupsOptionsValidator.EffectiveTryTimeout(source.TryTimeout),
            timeouts,
            heartbeat,
            version,
            health.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase),
            gate,
            environment.Modes.KeyHashingFor(mode, source),
            source,
            owner,
            fingerprint);
    }
}
