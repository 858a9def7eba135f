using System;
using System.Buffers;
using System.Collections.Generic;
using System.Linq;
using System.Globalization;
using Checkups.Balancing;
using Microsoft.Extensions.Options;

namespace Checkups.Configuration;

/// <summary>
/// Checks options whole and reports every problem at once, each prefixed with its configuration path,
/// e.g. <c>Checkups:Upstreams:api:Clusters:0:Servers:1:Port must be between 1 and 65535 (was 70000)</c>.
/// </summary>
internal sealed class CheckupsOptionsValidator : IValidateOptions<CheckupsOptions>
{
    internal const int MaxWeight = 1_000_000;
    internal const int MinTableSize = 1009;
    internal const int MaxKetamaWeight = 10_000;

    private static readonly SearchValues<char> TokenCharacters = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-");

    public ValidateOptionsResult Validate(string? name, CheckupsOptions options)
    {
        var errors = Validate(options, CheckupsOptions.SectionName);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    public static List<string> Validate(CheckupsOptions options, string prefix)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.HeartbeatInterval <= TimeSpan.Zero)
        {
            errors.Add(Invariant($"{prefix}:HeartbeatInterval must be greater than zero (was {options.HeartbeatInterval})"));
        }

        if (options.HeartbeatConcurrency < 1)
        {
            errors.Add(Invariant($"{prefix}:HeartbeatConcurrency must be at least 1 (was {options.HeartbeatConcurrency})"));
        }

        if (options.LocalZone is { } zone && string.IsNullOrWhiteSpace(zone))
        {
            errors.Add(Invariant($"{prefix}:LocalZone must be null or non-empty (was '{zone}')"));
        }

        var locality = new Locality(options.LocalZone, options.PreferLocalAddresses);
        foreach (var (name, upstream) in options.Upstreams)
        {
            ValidateUpstream(name, upstream, Invariant($"{prefix}:Upstreams:{name}"), locality, prefix, errors);
        }

        return errors;
    }

    public static void ValidateUpstream(string? name, UpstreamOptions? upstream, string path, Locality locality, string prefix, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            errors.Add(Invariant($"{path} must have a non-empty name"));
        }

        if (upstream is null)
        {
            errors.Add(Invariant($"{path} must not be null"));
            return;
        }

        if (!SelectorFactory.IsKnown(upstream.Mode))
        {
            errors.Add(Invariant($"{path}:Mode must be one of {SelectorFactory.KnownModes} (was '{upstream.Mode}')"));
        }

        else
        {
            ValidateModeOptions(upstream, path, locality, prefix, errors);
        }

        ValidateHeartbeat(upstream.Heartbeat, Invariant($"{path}:Heartbeat"), errors);

        if (upstream.Try is < 1)
        {
            errors.Add(Invariant($"{path}:Try must be at least 1 (was {upstream.Try})"));
        }

        if (upstream.TryTimeout is { } tryTimeout && tryTimeout <= TimeSpan.Zero)
        {
            errors.Add(Invariant($"{path}:TryTimeout must be greater than zero (was {tryTimeout})"));
        }

        ValidatePositive(upstream.Timeouts.Connect, Invariant($"{path}:Timeouts:Connect"), errors);
        ValidatePositive(upstream.Timeouts.Send, Invariant($"{path}:Timeouts:Send"), errors);
        ValidatePositive(upstream.Timeouts.Read, Invariant($"{path}:Timeouts:Read"), errors);

        int forms = (upstream.Servers.Count > 0 ? 1 : 0) + (upstream.Clusters.Count > 0 ? 1 : 0) + (upstream.NamedClusters.Count > 0 ? 1 : 0);
        if (forms == 0)
        {
            errors.Add(Invariant($"{path} must define its servers in Servers, Clusters or NamedClusters"));
        }
        else if (forms > 1)
        {
            errors.Add(Invariant($"{path} must define its servers in only one of Servers, Clusters or NamedClusters"));
        }

        if (upstream.Servers.Count > 0)
        {
            ValidateServers(upstream.Servers, Invariant($"{path}:Servers"), errors);
        }

        for (int i = 0; i < upstream.Clusters.Count; i++)
        {
            ValidateCluster(upstream.Clusters[i], Invariant($"{path}:Clusters:{i}"), errors);
        }

        if (SelectorFactory.IsKnown(upstream.Mode) && BalancingModes.IsHashing(SelectorFactory.Canonical(upstream.Mode)))
        {
            ValidateClusterSizes(upstream, path, errors);
        }

        if (string.Equals(upstream.Hash.Algorithm, HashAlgorithms.Ketama, StringComparison.Ordinal))
        {
            ValidateKetamaWeight(upstream.Servers, Invariant($"{path}:Servers"), errors);
            for (int i = 0; i < upstream.Clusters.Count; i++)
            {
                ValidateKetamaWeight(upstream.Clusters[i]?.Servers, Invariant($"{path}:Clusters:{i}:Servers"), errors);
            }

            foreach (var (clusterName, cluster) in upstream.NamedClusters)
            {
                ValidateKetamaWeight(cluster?.Servers, Invariant($"{path}:NamedClusters:{clusterName}:Servers"), errors);
            }
        }

        foreach (var (clusterName, cluster) in upstream.NamedClusters)
        {
            string clusterPath = Invariant($"{path}:NamedClusters:{clusterName}");
            if (string.IsNullOrWhiteSpace(clusterName))
            {
                errors.Add(Invariant($"{clusterPath} must have a non-empty name"));
            }
            else if (int.TryParse(clusterName, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
            {
                // Callers pass cluster orders as names or level numbers; a numeric name would be ambiguous.
                errors.Add(Invariant($"{clusterPath} must not be named with a number (was '{clusterName}'); use Clusters for levels"));
            }

            ValidateCluster(cluster, clusterPath, errors);
        }
    }

    private static void ValidateHeartbeat(HeartbeatOptions heartbeat, string path, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(heartbeat.Type))
        {
            errors.Add(Invariant($"{path}:Type must name a probe (tcp, http, redis, mysql or a registered one)"));
        }

        if (heartbeat.Sensibility < 1)
        {
            errors.Add(Invariant($"{path}:Sensibility must be at least 1 (was {heartbeat.Sensibility})"));
        }

        var http = heartbeat.Http;
        if (string.IsNullOrEmpty(http.Method) || http.Method.AsSpan().IndexOfAnyExcept(TokenCharacters) >= 0)
        {
            errors.Add(Invariant($"{path}:Http:Method must be an HTTP method such as GET or HEAD (was '{http.Method}')"));
        }

        if (string.IsNullOrEmpty(http.Path) || http.Path[0] != '/' || http.Path.Any(char.IsWhiteSpace))
        {
            errors.Add(Invariant($"{path}:Http:Path must start with '/' and contain no spaces (was '{http.Path}')"));
        }

        foreach (string code in http.Statuses.Keys)
        {
            if (!int.TryParse(code, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value is < 100 or > 599)
            {
                errors.Add(Invariant($"{path}:Http:Statuses:{code} must be a status code from 100 to 599"));
            }
        }

        for (int i = 0; i < http.AliveStatuses.Count; i++)
        {
            string alive = http.AliveStatuses[i] ?? string.Empty;
            bool isClass = alive.Length == 3 && alive[0] is >= '1' and <= '5' && alive.EndsWith("xx", StringComparison.OrdinalIgnoreCase);
            bool isCode = int.TryParse(alive, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value is >= 100 and <= 599;
            if (!isClass && !isCode)
            {
                errors.Add(Invariant($"{path}:Http:AliveStatuses:{i} must be a class such as 2xx or a code from 100 to 599 (was '{alive}')"));
            }
        }
    }

    private static void ValidateModeOptions(UpstreamOptions upstream, string path, Locality locality, string prefix, List<string> errors)
    {
        string mode = SelectorFactory.Canonical(upstream.Mode);
        var hash = upstream.Hash;
        if (hash.Algorithm is not (HashAlgorithms.Maglev or HashAlgorithms.Ketama))
        {
            errors.Add(Invariant($"{path}:Hash:Algorithm must be one of {HashAlgorithms.Maglev}, {HashAlgorithms.Ketama} (was '{hash.Algorithm}')"));
        }

        if (hash.TableSize is { } size && (size < MinTableSize || !MaglevTable.IsPrime(size)))
        {
            errors.Add(Invariant($"{path}:Hash:TableSize must be a prime number of at least {MinTableSize} (was {size})"));
        }

        if (hash.BalanceFactor is { } factor && !(factor >= 1.0))
        {
            errors.Add(Invariant($"{path}:Hash:BalanceFactor must be at least 1 (was {factor})"));
        }

        if (mode == BalancingModes.HeaderHash && string.IsNullOrWhiteSpace(hash.Header))
        {
            errors.Add(Invariant($"{path}:Hash:Header must name a request header in mode {BalancingModes.HeaderHash}"));
        }

        if (upstream.Fastest.DecayTime <= TimeSpan.Zero)
        {
            errors.Add(Invariant($"{path}:Fastest:DecayTime must be greater than zero (was {upstream.Fastest.DecayTime})"));
        }

        if (upstream.Fastest.FailurePenalty < TimeSpan.Zero)
        {
            errors.Add(Invariant($"{path}:Fastest:FailurePenalty must not be negative (was {upstream.Fastest.FailurePenalty})"));
        }

        if (!(upstream.LocalFirst.PanicThreshold is >= 0.0 and <= 1.0))
        {
            errors.Add(Invariant($"{path}:LocalFirst:PanicThreshold must be between 0 and 1 (was {upstream.LocalFirst.PanicThreshold})"));
        }

        if (mode == BalancingModes.LocalFirst && locality.Zone is null && !locality.PreferLocalAddresses)
        {
            errors.Add(Invariant($"{path}:Mode {BalancingModes.LocalFirst} needs {prefix}:LocalZone or {prefix}:PreferLocalAddresses to tell which servers are local"));
        }
    }

    private static void ValidateClusterSizes(UpstreamOptions upstream, string path, List<string> errors)
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

    private static void ValidateKetamaWeight(IList<ServerOptions>? servers, string path, List<string> errors)
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

    private static void ValidateCluster(ClusterOptions? cluster, string path, List<string> errors)
    {
        if (cluster is null)
        {
            errors.Add(Invariant($"{path} must not be null"));
            return;
        }

        ValidateServers(cluster.Servers, Invariant($"{path}:Servers"), errors);
    }

    private static void ValidateServers(IList<ServerOptions> servers, string path, List<string> errors)
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
                string key = Model.Peer.FormatKey(Model.Peer.NormalizeHost(server.Host), server.Port);
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

            if (server.FailTimeout < TimeSpan.Zero)
            {
                errors.Add(Invariant($"{serverPath}:FailTimeout must not be negative (was {server.FailTimeout})"));
            }
            else if (server.MaxFails > 0 && server.FailTimeout == TimeSpan.Zero)
            {
                errors.Add(Invariant($"{serverPath}:FailTimeout must be greater than zero when MaxFails is set (was {server.FailTimeout})"));
            }

            if (server.Zone is { } zone && string.IsNullOrWhiteSpace(zone))
            {
                errors.Add(Invariant($"{serverPath}:Zone must be null or non-empty (was '{zone}')"));
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

        if (Uri.CheckHostName(Model.Peer.NormalizeHost(host)) == UriHostNameType.Unknown)
        {
            errors.Add(Invariant($"{serverPath}:Host must be a host name or IP address without scheme or port (was '{host}')"));
            return false;
        }

        return true;
    }

    private static void ValidatePositive(TimeSpan value, string path, List<string> errors)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add(Invariant($"{path} must be greater than zero (was {value})"));
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
