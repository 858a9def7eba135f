using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using Checkups.Registry;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Configuration;

namespace Checkups.Yarp;

/// <summary>
/// Which Checkups upstream a YARP cluster runs on, and the cluster's Checkups settings read from its metadata, parsed
/// once per cluster configuration (a reload builds new configurations; the old ones and their entries are collected).
/// </summary>
internal sealed class ClusterBinding
{
    private readonly UpstreamRegistry _registry;
    private readonly CheckupsYarpOptions _options;
    private readonly ConditionalWeakTable<ClusterConfig, Bound> _bound = new();

    // Every upstream name a cluster of YARP's configuration is or may be bound to (by metadata, or by its id): a change
    // of any other upstream leaves YARP's configuration as it is. Names of clusters since removed stay (a reload too many).
    private readonly ConcurrentDictionary<string, byte> _names = new(StringComparer.OrdinalIgnoreCase);

    public ClusterBinding(UpstreamRegistry registry, CheckupsYarpOptions options)
    {
        _registry = registry;
        _options = options;
    }

    /// <summary>
    /// The cluster's Checkups settings, or <see langword="null"/> when it is not bound to an upstream. A cluster bound by
    /// its id is bound while the registry has an upstream of that name: one a source adds later (a Consul watch that
    /// starts after the proxy) binds it then.
    /// </summary>
    public Bound? Of(ClusterConfig cluster)
    {
        if (!_bound.TryGetValue(cluster, out var bound))
        {
            bound = Read(cluster);
            _bound.AddOrUpdate(cluster, bound);
        }

        if (bound.Upstream is not null)
        {
            return bound;
        }

        return _options.BindClustersById && _registry.TryGet(cluster.ClusterId, out var byId) ? bound.ById ??= bound with { Upstream = byId.Name } : null;
    }

    /// <summary>Notes the upstream <paramref name="cluster"/> is or may be bound to (see <see cref="Concerns"/>).</summary>
    public void Seen(ClusterConfig cluster)
    {
        if (cluster.Metadata is { } metadata && metadata.TryGetValue(CheckupsYarpMetadata.Upstream, out var named) && !string.IsNullOrWhiteSpace(named))
        {
            _names.TryAdd(named, 0);
        }
        else if (_options.BindClustersById)
        {
            _names.TryAdd(cluster.ClusterId, 0);
        }
    }

    /// <summary>Whether <paramref name="change"/> touches an upstream a cluster seen is or may be bound to.</summary>
    public bool Concerns(UpstreamsChangedEventArgs change)
    {
        foreach (string name in change.Updated)
        {
            if (_names.ContainsKey(name))
            {
                return true;
            }
        }

        foreach (string name in change.Removed)
        {
            if (_names.ContainsKey(name))
            {
                return true;
            }
        }

        return false;
    }

    private Bound Read(ClusterConfig cluster)
    {
        var metadata = cluster.Metadata ?? EmptyMetadata;
        string? upstream = metadata.TryGetValue(CheckupsYarpMetadata.Upstream, out var named) && !string.IsNullOrWhiteSpace(named) ? named : null;
        string scheme = metadata.TryGetValue(CheckupsYarpMetadata.Scheme, out var s) && s is "http" or "https" ? s : _options.Scheme;
        bool retryNonIdempotent = _options.RetryNonIdempotent
            || (metadata.TryGetValue(CheckupsYarpMetadata.RetryNonIdempotent, out var r) && bool.TryParse(r, out bool opted) && opted);
        var key = metadata.TryGetValue(CheckupsYarpMetadata.HashKey, out var spec) ? HashKeySource.Parse(spec) : null;
        return new Bound(upstream, scheme, retryNonIdempotent, key);
    }

    private static readonly IReadOnlyDictionary<string, string> EmptyMetadata = new Dictionary<string, string>();

    /// <summary>A bound cluster's settings.</summary>
    /// <param name="Upstream">The upstream's name; <see langword="null"/> when not bound.</param>
    /// <param name="Scheme">The destinations' scheme.</param>
    /// <param name="RetryNonIdempotent">Whether POST and PATCH may be retried.</param>
    /// <param name="HashKey">Where the hash key comes from; <see langword="null"/> for the mode's own.</param>
    internal sealed record Bound(string? Upstream, string Scheme, bool RetryNonIdempotent, HashKeySource? HashKey)
    {
        /// <summary>Gets or sets the settings of the cluster bound by its id (made once, read on every request).</summary>
        public Bound? ById { get; set; }
    }
}

/// <summary>Where a request's hash key comes from (<see cref="CheckupsYarpMetadata.HashKey"/>).</summary>
/// <param name="Kind">header, query, cookie, route, path or client-ip.</param>
/// <param name="Name">The header, query, cookie or route value's name.</param>
internal sealed record HashKeySource(string Kind, string Name)
{
    /// <summary>Reads <c>header:X-User</c>, <c>query:user</c>, <c>cookie:sid</c>, <c>route:id</c>, <c>path</c>, <c>client-ip</c>.</summary>
    /// <exception cref="ArgumentException">The spec is none of those.</exception>
    public static HashKeySource Parse(string spec)
    {
        int colon = spec.IndexOf(':', StringComparison.Ordinal);
        string kind = (colon < 0 ? spec : spec[..colon]).Trim().ToLowerInvariant();
        string name = colon < 0 ? string.Empty : spec[(colon + 1)..].Trim();
        bool named = kind is "header" or "query" or "cookie" or "route";
        if ((named && name.Length > 0) || (!named && kind is "path" or "client-ip" && name.Length == 0))
        {
            return new HashKeySource(kind, name);
        }

        throw new ArgumentException($"The cluster metadata {CheckupsYarpMetadata.HashKey} must be header:<name>, query:<name>, cookie:<name>, route:<name>, path or client-ip (was '{spec}').");
    }

    /// <summary>The request's key; empty when the request has none (round robin, as nginx does).</summary>
    public string Of(HttpContext context) => Kind switch
    {
        "header" => context.Request.Headers[Name] is { Count: > 0 } values ? values[0] ?? string.Empty : string.Empty,
        "query" => context.Request.Query[Name] is { Count: > 0 } values ? values[0] ?? string.Empty : string.Empty,
        "cookie" => context.Request.Cookies[Name] ?? string.Empty,
        "route" => context.Request.RouteValues[Name]?.ToString() ?? string.Empty,
        "client-ip" => context.Connection.RemoteIpAddress?.ToString() ?? string.Empty,
        _ => context.Request.Path.Value ?? string.Empty,
    };
}
