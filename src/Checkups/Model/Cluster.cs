using System.Collections.Immutable;
using Checkups.Balancing;

namespace Checkups.Model;

/// <summary>A group of servers inside an upstream: a priority level or a named cluster. Immutable.</summary>
public sealed class Cluster
{
    internal Cluster(string name, int? level, ImmutableArray<Server> servers)
    {
        Name = name;
        Level = level;
        Servers = servers;
    }

    /// <summary>Gets the cluster name: the level number as text (<c>1</c>, <c>2</c>…) for levels, else the configured name.</summary>
    public string Name { get; }

    /// <summary>Gets the level number (1-based) for level clusters; <see langword="null"/> for named clusters.</summary>
    public int? Level { get; }

    /// <summary>Gets the servers of the cluster, in configured order.</summary>
    public ImmutableArray<Server> Servers { get; }

    /// <summary>Gets the selector that picks among <see cref="Servers"/>; built once per snapshot.</summary>
    internal ServerSelector Selector { get; set; } = null!;
}
