using System;
using System.Threading;
using System.Collections.Generic;
using Checkups.Balancing;
using Checkups.Model;
using static Checkups.Configuration.CheckupsOptionsValidator;

namespace Checkups.Configuration;

/// <summary>The part of validation that checks clusters and their servers: hosts, ports, weights, duplicates, sizes.</summary>
internal static class ServerListValidator
{
    internal static void ValidateClusterSizes(UpstreamOptions upstream, string path, List<string> errors)
    {
        void Check(IList<ServerOptions>? servers, string at)
        {
            if (servers is { Count: > MaglevTable.MaxServers })
            {
                errors.Add(Invariant($"{at} has {servers.Count} servers; a hashing cluster holds at most {MaglevTable.MaxServers}"));
            }
        }

        Check(upstream.Servers, Invariant($"{path}:Servers"));
        for (int i = 0; i < upstream.Clusters.Count; i++)
        {
            Check(upstream.Clusters[i]?.Servers, Invariant($"{path}:Clusters:{i}:Servers"));
        }

        foreach (var (clusterName, cluster) in upstream.NamedClusters)
        {
            Check(cluster?.Servers, Invariant($"{path}:NamedClusters:{clusterName}:Servers"));
        }
    }

    internal static void ValidateKetamaWeight(IList<ServerOptions>? servers, string path, List<string> errors)
    {
        long total = 0;
        foreach (var server in servers ?? Array.Empty<ServerOptions>())
        {
            total += server is { Weight: > 0 } ? server.Weight : 0;
        }

        // Every unit of weight is 160 points on the ring, built in memory.
        if (total > MaxKetamaWeight)
        {
            errors.Add(Invariant($"{path} has a total weight of {total}; the ketama ring allows at most {MaxKetamaWeight} per cluster"));
        }
    }

    internal static void ValidateCluster(ClusterOptions? cluster, string path, List<string> errors)
    {
        if (cluster is null)
        {
            errors.Add(Invariant($"{path} must not be null"));
            return;
        }

        ValidateServers(cluster.Servers, Invariant($"{path}:Servers"), errors);
    }

    internal static void ValidateServers(IList<ServerOptions> servers, string path, List<string> errors)
    {
        if (servers.Count == 0)
        {
            errors.Add(Invariant($"{path} must contain at least one server"));
            return;
        }

        var seen = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < servers.Count; i++)
        {
            string serverPath = Invariant($"{path}:{i}");
            var server = servers[i];
            if (server is null)
            {
                errors.Add(Invariant($"{serverPath} must not be null"));
                continue;
            }

            bool hostOk = ValidateHost(server.Host, serverPath, errors);
            if (server.Port is < 1 or > 65535)
            {
                errors.Add(Invariant($"{serverPath}:Port must be between 1 and 65535 (was {server.Port})"));
            }
            else if (hostOk)
            {
                string key = Model.Server.FormatKey(Model.Server.NormalizeHost(server.Host), server.Port);
                if (seen.TryGetValue(key, out int first))
                {
                    errors.Add(Invariant($"{serverPath} duplicates {key} already listed at {path}:{first}"));
                }
                else
                {
                    seen.Add(key, i);
                }
            }

            if (server.Weight is < 1 or > MaxWeight)
            {
                errors.Add(Invariant($"{serverPath}:Weight must be between 1 and {MaxWeight} (was {server.Weight})"));
            }

            if (server.MaxFails < 0)
            {
                errors.Add(Invariant($"{serverPath}:MaxFails must not be negative (was {server.MaxFails})"));
            }

            if (server.FailTimeout < TimeSpan.Zero && server.FailTimeout != Timeout.InfiniteTimeSpan)
            {
                errors.Add(Invariant($"{serverPath}:FailTimeout must not be negative; TimeSpan.MaxValue or Timeout.InfiniteTimeSpan (-00:00:00.001) mean never (was {server.FailTimeout})"));
            }
            else if (server.MaxFails > 0 && server.FailTimeout == TimeSpan.Zero)
            {
                errors.Add(Invariant($"{serverPath}:FailTimeout must be greater than zero when MaxFails is set (was {server.FailTimeout})"));
            }

            if (server.Zone is { } zone && string.IsNullOrWhiteSpace(zone))
            {
                errors.Add(Invariant($"{serverPath}:Zone must be null or non-empty (was '{zone}')"));
            }

            if (server.UnstableReason is { } reason && string.IsNullOrWhiteSpace(reason))
            {
                errors.Add(Invariant($"{serverPath}:UnstableReason must be null or non-empty (was '{reason}')"));
            }

            foreach (var key in server.Metadata.Keys)
            {
                if (string.IsNullOrWhiteSpace(key))
                {
                    errors.Add(Invariant($"{serverPath}:Metadata must not contain an empty key"));
                }
            }
        }
    }

    private static bool ValidateHost(string? host, string serverPath, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(host))
        {
            errors.Add(Invariant($"{serverPath}:Host must not be empty"));
            return false;
        }

        if (Uri.CheckHostName(Model.Server.NormalizeHost(host)) == UriHostNameType.Unknown)
        {
            errors.Add(Invariant($"{serverPath}:Host must be a host name or IP address without scheme or port (was '{host}')"));
            return false;
        }

        return true;
    }
}
