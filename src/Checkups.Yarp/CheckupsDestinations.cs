using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Registry;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;

namespace Checkups.Yarp;

/// <summary>
/// Gives every cluster bound to a Checkups upstream that upstream's servers as its destinations (id <c>host:port</c>,
/// address <c>scheme://host:port/</c>), and Checkups' policies by name: YARP's own view of the cluster (its destinations,
/// its state, its telemetry) follows whatever source owns the upstream. Runs each time YARP applies its configuration,
/// which <see cref="CheckupsChangeSignal"/> makes it do when an upstream changes.
/// </summary>
internal sealed class CheckupsClusterFilter : IProxyConfigFilter
{
    private static readonly IReadOnlyDictionary<string, DestinationConfig> None = new Dictionary<string, DestinationConfig>();

    private readonly UpstreamRegistry _registry;
    private readonly ClusterBinding _binding;

    public CheckupsClusterFilter(UpstreamRegistry registry, ClusterBinding binding)
    {
        _registry = registry;
        _binding = binding;
    }

    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        _binding.Seen(cluster);
        if (_binding.Of(cluster) is not { Upstream: { } name } bound)
        {
            return new ValueTask<ClusterConfig>(cluster);
        }

        var destinations = None;
        if (_registry.TryGet(name, out var upstream))
        {
            var servers = new Dictionary<string, DestinationConfig>(StringComparer.OrdinalIgnoreCase);
            foreach (var level in upstream.Clusters)
            {
                foreach (var server in level.Servers)
                {
                    // One destination per host:port, in whichever level or named cluster it first appears.
                    servers.TryAdd(server.Key, new DestinationConfig
                    {
                        Address = string.Concat(bound.Scheme, "://", server.Key, "/"),
                        Metadata = new Dictionary<string, string> { ["Checkups.Cluster"] = server.Cluster },
                    });
                }
            }

            destinations = servers;
        }

        var health = cluster.HealthCheck ?? new HealthCheckConfig();
        return new ValueTask<ClusterConfig>(cluster with
        {
            Destinations = destinations,
            LoadBalancingPolicy = cluster.LoadBalancingPolicy ?? CheckupsYarpMetadata.PolicyName,

            // Checkups decides which servers may serve (passive and active health): YARP offers every destination.
            // Outcomes reach Checkups' passive health through YARP's own passive step too (without UseCheckups()).
            HealthCheck = health with
            {
                AvailableDestinationsPolicy = health.AvailableDestinationsPolicy ?? CheckupsYarpMetadata.PolicyName,
                Passive = health.Passive ?? new PassiveHealthCheckConfig { Enabled = true, Policy = CheckupsYarpMetadata.PolicyName },
            },
        });
    }

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel) => new(route);
}

/// <summary>
/// A configuration provider with no routes or clusters of its own, whose change token fires when an upstream a cluster
/// is bound to changes: YARP then applies its configuration again, and <see cref="CheckupsClusterFilter"/> gives bound
/// clusters their upstreams' new servers, with no proxy restart.
/// </summary>
internal sealed class CheckupsChangeSignal : IProxyConfigProvider, IDisposable
{
    private readonly UpstreamRegistry _registry;
    private readonly ClusterBinding _binding;
    private readonly object _gate = new();
    private Snapshot _current = new();

    public CheckupsChangeSignal(UpstreamRegistry registry, ClusterBinding binding)
    {
        _registry = registry;
        _binding = binding;
        _registry.Changed += OnChanged;
    }

    public IProxyConfig GetConfig()
    {
        lock (_gate)
        {
            return _current;
        }
    }

    public void Dispose()
    {
        _registry.Changed -= OnChanged;
        lock (_gate)
        {
            _current.Signal();
        }
    }

    private void OnChanged(object? sender, UpstreamsChangedEventArgs change)
    {
        if (!_binding.Concerns(change))
        {
            // No cluster is bound to what changed (a gRPC or HttpClient upstream, say): YARP need not apply it all again.
            return;
        }

        Snapshot previous;
        lock (_gate)
        {
            previous = _current;
            _current = new Snapshot();
        }

        previous.Signal();
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "A source without timers needs no disposing; each one is cancelled once and dropped.")]
    private sealed class Snapshot : IProxyConfig
    {
        private readonly CancellationTokenSource _changed = new();

        public Snapshot() => ChangeToken = new CancellationChangeToken(_changed.Token);

        public string RevisionId { get; } = Guid.NewGuid().ToString("N");

        public IReadOnlyList<RouteConfig> Routes { get; } = Array.Empty<RouteConfig>();

        public IReadOnlyList<ClusterConfig> Clusters { get; } = Array.Empty<ClusterConfig>();

        public IChangeToken ChangeToken { get; }

        public void Signal() => _changed.Cancel();
    }
}
