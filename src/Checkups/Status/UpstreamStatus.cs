using System.Collections.Generic;

namespace Checkups.Status;

/// <summary>The reported state of one upstream: its clusters in default order, each with its servers.</summary>
public sealed class UpstreamStatus
{
    internal UpstreamStatus(string name, string mode, long version, string owner, bool namedClusters, IReadOnlyList<ClusterStatus> clusters)
    {
        Owner = owner;
        HasNamedClusters = namedClusters;
        Name = name;
        Mode = mode;
        Version = version;
        Clusters = clusters;
    }

    /// <summary>Gets the upstream name.</summary>
    public string Name { get; }

    /// <summary>Gets the balancing mode.</summary>
    public string Mode { get; }

    /// <summary>Gets the registry version at which the upstream was last changed.</summary>
    public long Version { get; }

    /// <summary>Gets the name of the source that owns the upstream (<c>configuration</c>, <c>runtime</c>, or an added source's name).</summary>
    public string Owner { get; }

    /// <summary>Gets whether the clusters are named (JSON: an object keyed by cluster name) or levels (an array of levels).</summary>
    public bool HasNamedClusters { get; }

    /// <summary>Gets the clusters in default order.</summary>
    public IReadOnlyList<ClusterStatus> Clusters { get; }
}

/// <summary>The reported state of one cluster.</summary>
public sealed class ClusterStatus
{
    internal ClusterStatus(string name, IReadOnlyList<ServerStatus> servers)
    {
        Name = name;
        Servers = servers;
    }

    /// <summary>Gets the cluster name (level number as text, or the configured name).</summary>
    public string Name { get; }

    /// <summary>Gets the servers of the cluster.</summary>
    public IReadOnlyList<ServerStatus> Servers { get; }
}
