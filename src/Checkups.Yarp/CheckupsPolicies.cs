using System;
using System.Collections.Generic;
using Checkups.Http;
using Checkups.Registry;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Checkups.Yarp;

/// <summary>
/// YARP's load balancing policy <c>Checkups</c>, for bound clusters run by YARP's own pipeline (without
/// <c>UseCheckups()</c>): the destination of the server the upstream's mode picks (lua's <c>select_peer</c>). It makes
/// one pick per request and no retry; <c>UseCheckups()</c> is the full integration.
/// </summary>
internal sealed class CheckupsLoadBalancingPolicy : ILoadBalancingPolicy
{
    private readonly UpstreamRegistry _registry;
    private readonly ClusterBinding _binding;

    public CheckupsLoadBalancingPolicy(UpstreamRegistry registry, ClusterBinding binding)
    {
        _registry = registry;
        _binding = binding;
    }

    public string Name => CheckupsYarpMetadata.PolicyName;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations)
    {
        if (availableDestinations.Count == 0)
        {
            return null;
        }

        if (_binding.Of(cluster.Model.Config) is not { Upstream: { } name } bound || !_registry.TryGet(name, out var upstream))
        {
            return availableDestinations[0];
        }

        // The same key as a request through UseCheckups(): a hashing mode keeps its own key here too.
        string key = CheckupsForwarding.KeyOf(context, bound, upstream);
        if (!_registry.TrySelectPeer(upstream.Name, key, out var server))
        {
            return null;
        }

        foreach (var destination in availableDestinations)
        {
            if (string.Equals(destination.DestinationId, server.Key, StringComparison.OrdinalIgnoreCase))
            {
                return destination;
            }
        }

        // The configuration has not caught up with the upstream yet: any destination YARP offers.
        return availableDestinations[0];
    }
}

/// <summary>
/// YARP's available destinations policy <c>Checkups</c>: every destination. Checkups decides which servers may serve
/// (passive and active health, <c>down</c>), so YARP's own filtering would only disagree with it.
/// </summary>
internal sealed class CheckupsAvailableDestinationsPolicy : IAvailableDestinationsPolicy
{
    public string Name => CheckupsYarpMetadata.PolicyName;

    public IReadOnlyList<DestinationState> GetAvailalableDestinations(ClusterConfig config, IReadOnlyList<DestinationState> allDestinations) => allDestinations;
}

/// <summary>
/// YARP's passive health policy <c>Checkups</c>, for bound clusters run by YARP's own pipeline: each forwarded request is
/// reported to Checkups (lua's <c>feedback_status</c>): a forwarding error, or a status in the upstream's failure
/// statuses, is a failure; a request the client abandoned is not reported.
/// </summary>
internal sealed class CheckupsPassiveHealthPolicy : IPassiveHealthCheckPolicy
{
    private readonly UpstreamRegistry _registry;
    private readonly ClusterBinding _binding;

    public CheckupsPassiveHealthPolicy(UpstreamRegistry registry, ClusterBinding binding)
    {
        _registry = registry;
        _binding = binding;
    }

    public string Name => CheckupsYarpMetadata.PolicyName;

    public void RequestProxied(HttpContext context, ClusterState cluster, DestinationState destination)
    {
        if (context.RequestAborted.IsCancellationRequested
            || _binding.Of(cluster.Model.Config) is not { Upstream: { } name }
            || !_registry.TryGet(name, out var upstream))
        {
            return;
        }

        bool failed = context.GetForwarderErrorFeature() is not null || HttpRetryRules.IsFailureStatus(upstream, context.Response.StatusCode);
        foreach (var level in upstream.Clusters)
        {
            foreach (var server in level.Servers)
            {
                if (string.Equals(server.Key, destination.DestinationId, StringComparison.OrdinalIgnoreCase))
                {
                    _registry.Report(server, failed);
                    return;
                }
            }
        }
    }
}
