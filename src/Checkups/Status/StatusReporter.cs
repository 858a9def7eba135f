using System;
using System.Collections.Generic;
using Checkups.Health.Heartbeat;
using Checkups.Registry;

namespace Checkups.Status;

/// <summary>Reads the store, every server's live state and the heartbeat's own state into one <see cref="CheckupsStatus"/>.</summary>
internal static class StatusReporter
{
    public static CheckupsStatus Read(StoreState state, HeartbeatState heartbeat, DateTimeOffset startTime)
    {
        var result = new SortedDictionary<string, UpstreamStatus>(StringComparer.OrdinalIgnoreCase);
        foreach (var upstream in state.Upstreams.Values)
        {
            var clusters = new List<ClusterStatus>(upstream.Clusters.Length);
            foreach (var cluster in upstream.Clusters)
            {
                var peers = new List<ServerStatus>(cluster.Servers.Length);
                foreach (var peer in cluster.Servers)
                {
                    peers.Add(peer.Health.GetStatus(peer, upstream.Name, upstream.HeartbeatEnabled));
                }

                clusters.Add(new ClusterStatus(cluster.Name, peers));
            }

            result.Add(upstream.Name, new UpstreamStatus(upstream.Name, upstream.Mode, upstream.Version, upstream.Owner, upstream.HasNamedClusters, clusters));
        }

        return new CheckupsStatus(result, heartbeat.LastCheckTime, heartbeat.Alive, startTime, state.Version);
    }
}
