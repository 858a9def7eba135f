using System;
using System.Collections.Frozen;
using System.Collections.Generic;
using System.Collections.Immutable;
using Checkups.Balancing;
using Checkups.Configuration;
using Checkups.Health;

namespace Checkups.Model;

/// <summary>
/// An immutable snapshot of one upstream: its clusters, servers and policies at one configuration version.
/// An update builds a new snapshot and swaps it in whole, so a pick sees the old or the new one, never a mix.
/// </summary>
public sealed class Upstream
{
    internal Upstream(
        string name,
        string mode,
        bool namedClusters,
        ImmutableArray<Cluster> clusters,
        bool isProtected,
        int tryLimit,
        TimeSpan? tryTimeout,
        UpstreamTimeouts timeouts,
        bool heartbeatEnabled,
        long version,
        FrozenDictionary<string, ServerHealth> health,
        UpstreamHealth healthGate,
        KeyHashing keyHashing,
        UpstreamOptions source,
        string owner,
        string fingerprint)
    {
        Name = name;
        Mode = mode;
        HasNamedClusters = namedClusters;
        Clusters = clusters;
        Protected = isProtected;
        Try = tryLimit;
        TryTimeout = tryTimeout;
        Timeouts = timeouts;
        HeartbeatEnabled = heartbeatEnabled;
        Version = version;
        Health = health;
        HealthGate = healthGate;
        KeyHashing = keyHashing;
        Source = source;
        Owner = owner;
        Fingerprint = fingerprint;
        HashHeader = source.Hash.Header;
        FailureStatuses = source.FailureStatuses.Count == 0 ? DefaultFailureStatuses : source.FailureStatuses.ToFrozenSet();
    }

    private static readonly FrozenSet<int> DefaultFailureStatuses = new[] { 502, 503, 504 }.ToFrozenSet();

    /// <summary>Gets the upstream name.</summary>
    public string Name { get; }

    /// <summary>Gets the balancing mode (see <see cref="BalancingModes"/>).</summary>
    public string Mode { get; }

    /// <summary>Gets whether the clusters are named (<see langword="true"/>) or priority levels.</summary>
    public bool HasNamedClusters { get; }

    /// <summary>Gets the clusters in their default order (levels ascending, or named clusters in declaration order).</summary>
    public ImmutableArray<Cluster> Clusters { get; }

    /// <summary>Gets whether the active check keeps one server selectable when all fail.</summary>
    public bool Protected { get; }

    /// <summary>Gets how many servers one call may try (the configured value, or the number of servers).</summary>
    public int Try { get; }

    /// <summary>
    /// Gets the time after which a call stops trying further servers; <see langword="null"/> for no limit (also when the
    /// configuration says never: <see cref="TimeSpan.MaxValue"/> or <see cref="System.Threading.Timeout.InfiniteTimeSpan"/>).
    /// </summary>
    public TimeSpan? TryTimeout { get; }

    /// <summary>Gets the per-upstream network timeouts.</summary>
    public UpstreamTimeouts Timeouts { get; }

    /// <summary>Gets whether the active health check probes this upstream.</summary>
    public bool HeartbeatEnabled { get; }

    /// <summary>Gets the registry version at which this snapshot was applied.</summary>
    public long Version { get; private set; }

    /// <summary>Gets the name of the source that owns the upstream (see <see cref="Sources.UpstreamSourceNames"/>).</summary>
    public string Owner { get; }

    /// <summary>Gets the request header whose value is the hash key in <c>header_hash</c> mode; <see langword="null"/> when none is set.</summary>
    public string? HashHeader { get; }

    /// <summary>Gets the HTTP status codes that make a call a failure (configured, or 502, 503 and 504).</summary>
    public IReadOnlySet<int> FailureStatuses { get; }

    /// <summary>Gets a copy of the options this snapshot was built from; changing the copy changes nothing.</summary>
    /// <returns>A deep copy of the options.</returns>
    public UpstreamOptions GetOptions() => OptionsCopy.Of(Source);

    /// <summary>Gets the live health state by server key (host:port); one entry per distinct server.</summary>
    internal FrozenDictionary<string, ServerHealth> Health { get; }

    /// <summary>Gets the lock that orders passive err marking across the upstream's servers; carried across snapshots.</summary>
    internal UpstreamHealth HealthGate { get; }

    /// <summary>Gets which hash of a call's key the selectors read (none for modes without keys).</summary>
    internal KeyHashing KeyHashing { get; }

    /// <summary>Gets a private copy of the options this snapshot was built from (for partial updates).</summary>
    internal UpstreamOptions Source { get; }

    /// <summary>Gets a text equal for two upstreams exactly when their options are equal (to tell what a reload changed).</summary>
    internal string Fingerprint { get; }

    /// <summary>
    /// Sets the version of a snapshot prepared outside the registry's write lock, as it is committed: before anyone can
    /// read it, so it is as immutable to readers as every other field.
    /// </summary>
    internal void StampVersion(long version) => Version = version;

    /// <summary>Finds a cluster by name or level number; <see langword="null"/> when there is none.</summary>
    /// <param name="name">A cluster name, or a level number as text.</param>
    /// <returns>The cluster, or <see langword="null"/>.</returns>
    public Cluster? FindCluster(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var cluster in Clusters)
        {
            if (string.Equals(cluster.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return cluster;
            }
        }

        return null;
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}
