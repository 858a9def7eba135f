using System;
using System.Collections.Generic;
using System.Linq;
using Checkups.Configuration;
using Checkups.Sources;

namespace Checkups.Registry;

/// <summary>The run-time API: a source named <c>runtime</c> that changes the upstreams it owns.</summary>
public sealed partial class UpstreamRegistry
{
    private const string RuntimePrefix = CheckupsOptions.SectionName;

    /// <summary>Adds or replaces a whole upstream. The health of servers that stay (same host:port) is kept.</summary>
    /// <param name="name">The upstream name.</param>
    /// <param name="options">The upstream; validated whole and copied.</param>
    /// <exception cref="CheckupsValidationException">The options are invalid; nothing was changed.</exception>
    /// <exception cref="UpstreamOwnershipException">Another source (the configuration, a Consul watch…) owns the upstream.</exception>
    public void Update(string name, UpstreamOptions options)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(options);
        _store.Put(UpstreamSourceNames.Runtime, name, OptionsCopy.Of(options), RuntimePrefix);
    }

    /// <summary>Replaces only the servers of an upstream (as one level-1 cluster), keeping its mode and policies.</summary>
    /// <param name="name">The upstream name.</param>
    /// <param name="servers">The new servers.</param>
    /// <exception cref="UpstreamNotFoundException">There is no such upstream.</exception>
    /// <exception cref="CheckupsValidationException">The servers are invalid; nothing was changed.</exception>
    /// <exception cref="UpstreamOwnershipException">Another source owns the upstream.</exception>
    public void UpdateServers(string name, IEnumerable<ServerOptions> servers)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(servers);

        // The caller's sequence is read here, not under the write lock, where a lazy one could call back into the registry.
        var list = servers.ToList();
        ReplaceClusters(name, options =>
        {
            foreach (var server in list)
            {
                options.Servers.Add(OptionsCopy.Of(server)!);
            }
        });
    }

    /// <summary>Replaces only the clusters of an upstream with priority levels (first = level 1), keeping its mode and policies.</summary>
    /// <param name="name">The upstream name.</param>
    /// <param name="levels">The new clusters, level 1 first.</param>
    /// <exception cref="UpstreamNotFoundException">There is no such upstream.</exception>
    /// <exception cref="CheckupsValidationException">The clusters are invalid; nothing was changed.</exception>
    /// <exception cref="UpstreamOwnershipException">Another source owns the upstream.</exception>
    public void UpdateClusters(string name, IEnumerable<ClusterOptions> levels)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(levels);
        var list = levels.ToList();
        ReplaceClusters(name, options =>
        {
            foreach (var level in list)
            {
                options.Clusters.Add(OptionsCopy.Of(level)!);
            }
        });
    }

    /// <summary>Replaces only the clusters of an upstream with named clusters, keeping its mode and policies.</summary>
    /// <param name="name">The upstream name.</param>
    /// <param name="clusters">The new clusters by name, in default order.</param>
    /// <exception cref="UpstreamNotFoundException">There is no such upstream.</exception>
    /// <exception cref="CheckupsValidationException">The clusters are invalid; nothing was changed.</exception>
    /// <exception cref="UpstreamOwnershipException">Another source owns the upstream.</exception>
    public void UpdateNamedClusters(string name, IEnumerable<KeyValuePair<string, ClusterOptions>> clusters)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(clusters);
        var list = clusters.ToList();
        ReplaceClusters(name, options =>
        {
            foreach (var (clusterName, cluster) in list)
            {
                if (!options.NamedClusters.TryAdd(clusterName, OptionsCopy.Of(cluster)!))
                {
                    throw new CheckupsValidationException($"{RuntimePrefix}:Upstreams:{name}:NamedClusters:{clusterName} is listed twice");
                }
            }
        });
    }

    /// <summary>Removes an upstream and the health state of its servers.</summary>
    /// <param name="name">The upstream name.</param>
    /// <returns>Whether the upstream existed.</returns>
    /// <exception cref="UpstreamOwnershipException">Another source owns the upstream.</exception>
    public bool Delete(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _store.Remove(UpstreamSourceNames.Runtime, name);
    }

    private void ReplaceClusters(string name, Action<UpstreamOptions> fill) =>
        _store.Modify(
            UpstreamSourceNames.Runtime,
            name,
            options =>
            {
                options.Servers.Clear();
                options.Clusters.Clear();
                options.NamedClusters.Clear();
                fill(options);
            },
            RuntimePrefix);
}
