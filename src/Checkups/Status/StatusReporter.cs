using System;
using System.Collections.Generic;
using Checkups.Health.Heartbeat;
using Checkups.Registry;

namespace Checkups.Status;

/// <summary>Reads the store, every server's live state and the heartbeat's own state into one <see cref="CheckupsStatus"/>.</summary>
internal static class StatusReporter
{
    public static CheckupsStatus Read(StoreState state, HeartbeatState heartbeat, DateTimeOffset startTime, IReadOnlyList<(string Name, Sources.IUpstreamSource? Source)>? sources = null, CheckupsSettings? settings = null)
    {
        var result = new SortedDictionary<string, UpstreamStatus>(StringComparer.OrdinalIgnoreCase);
        foreach (var upstream in state.Upstreams.Values)
        {
            var clusters = new List<ClusterStatus>(upstream.Clusters.Length);
            foreach (var cluster in upstream.Clusters)
            {
                var servers = new List<ServerStatus>(cluster.Servers.Length);
                foreach (var server in cluster.Servers)
                {
                    servers.Add(server.Health.GetStatus(server, upstream.Name, upstream.HeartbeatEnabled));
                }

                clusters.Add(new ClusterStatus(cluster.Name, servers));
            }

            result.Add(upstream.Name, new UpstreamStatus(upstream.Name, upstream.Mode, upstream.Version, upstream.Owner, upstream.HasNamedClusters, clusters));
        }

        var attached = new SortedDictionary<string, SourceState>(StringComparer.Ordinal);
        foreach (var (name, source) in sources ?? Array.Empty<(string, Sources.IUpstreamSource?)>())
        {
            var owned = new List<string>();
            foreach (var upstream in result.Values)
            {
                if (upstream.Owner == name)
                {
                    owned.Add(upstream.Name);
                }
            }

            attached[name] = new SourceState(name, owned, source is null ? null : ReadSource(source));
        }

        return new CheckupsStatus(result, heartbeat.LastCheckTime, heartbeat.Alive, startTime, state.Version, attached)
        {
            ConfigHash = ConfigHash(state, settings),
        };
    }

    /// <summary>
    /// lua's <c>conf_hash</c>: the same text for the same configuration in force, in any process, so a fleet can tell which
    /// of its members run what. Over the global settings and every upstream's name, owner and options (in name order).
    /// </summary>
    private static string ConfigHash(StoreState state, CheckupsSettings? settings)
    {
        var upstreams = new List<Model.Upstream>(state.Upstreams.Values);
        upstreams.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        var text = new System.Text.StringBuilder();
        if (settings is not null)
        {
            text.Append(System.FormattableString.Invariant($"{settings.HeartbeatInterval.Ticks}|{settings.HeartbeatEnabled}|{settings.HeartbeatConcurrency}|{settings.Locality.Zone}|{settings.Locality.PreferLocalAddresses}"));
        }

        foreach (var upstream in upstreams)
        {
            text.Append('\n').Append(upstream.Name).Append('|').Append(upstream.Owner).Append('|').Append(upstream.Fingerprint);
        }

        ulong hash = Hashing.StableHash.XxHash64(System.Text.Encoding.UTF8.GetBytes(text.ToString()));
        return hash.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>What a source reports; a source whose report throws is shown with that error, and the status is still taken.</summary>
    private static Sources.SourceStatus? ReadSource(Sources.IUpstreamSource source)
    {
        if (source is not Sources.IUpstreamSourceStatus reporting)
        {
            return null;
        }

        try
        {
            return reporting.GetSourceStatus();
        }
        catch (Exception ex)
        {
            return new Sources.SourceStatus(null, "the source's status failed: " + ex.Message);
        }
    }
}
