using System;
using Checkups.Configuration;
using Checkups.Model;

namespace Checkups.Balancing;

/// <summary>
/// A balancing mode an upstream names in <see cref="UpstreamOptions.Mode"/>: it builds the <see cref="ServerSelector"/>
/// of each cluster of each snapshot. The built-in modes (<see cref="BalancingModes"/>) are modes too; register one of
/// your own with <c>AddCheckups(…).AddBalancingMode&lt;T&gt;()</c> (as YARP users register an <c>ILoadBalancingPolicy</c>).
/// </summary>
public abstract class BalancingMode
{
    /// <summary>Initializes a mode.</summary>
    /// <param name="name">The name upstreams give in <c>Mode</c>; compared ignoring case, and not one of the built-in names.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or has white space.</exception>
    protected BalancingMode(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (name.AsSpan().IndexOfAny(" \t\r\n") >= 0)
        {
            throw new ArgumentException($"A balancing mode's name has no white space (was '{name}').", nameof(name));
        }

        Name = name;
    }

    /// <summary>Gets the name upstreams give in <see cref="UpstreamOptions.Mode"/>.</summary>
    public string Name { get; }

    /// <summary>
    /// Gets whether the mode places calls by the caller's hash key: then <see cref="SelectionContext.KeyHash"/> is the
    /// XXH64 of the key's UTF-8 bytes, computed once per call, and callers that take keys from requests (the HttpClient
    /// handler's request option) pass them.
    /// </summary>
    /// <value>Default <see langword="false"/>.</value>
    public virtual bool UsesHashKey => false;

    /// <summary>
    /// Builds the selector of one cluster of one snapshot, off the hot path: it may precompute whatever its picks need,
    /// and is dropped when the snapshot is replaced (health lives on in the servers).
    /// </summary>
    /// <param name="cluster">The cluster, with its servers in configured order.</param>
    /// <param name="options">The upstream's options (read them; do not change them).</param>
    /// <param name="time">The registry's clock.</param>
    /// <returns>The selector.</returns>
    public abstract ServerSelector CreateSelector(Cluster cluster, UpstreamOptions options, TimeProvider time);

    /// <summary>The selector with everything the registry knows of the process (a built-in mode reads its randomness and locality).</summary>
    internal virtual ServerSelector CreateSelector(Cluster cluster, UpstreamOptions options, BalancingEnvironment environment) =>
        CreateSelector(cluster, options, environment.Time);

    /// <summary>Which hash of a call's key the mode's selectors read.</summary>
    internal virtual KeyHashing KeyHashingFor(UpstreamOptions options) => UsesHashKey ? KeyHashing.XxHash64 : KeyHashing.None;
}
