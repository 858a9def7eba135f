using System.Collections.Generic;

namespace Checkups.Configuration;

/// <summary>A group of servers inside an upstream: one priority level or one named cluster.</summary>
public sealed class ClusterOptions
{
    /// <summary>Gets the servers of the cluster.</summary>
    /// <value>Default empty; a cluster must have at least one server.</value>
    public IList<ServerOptions> Servers { get; } = new List<ServerOptions>();
}
