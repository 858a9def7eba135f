using System;
using System.Collections.Frozen;
using System.Collections.Generic;
using System.Net.Http;
using System.Text;
using Checkups.Configuration;
using Checkups.Execution;
using Checkups.Model;
using Checkups.Registry;
using Grpc.Core;
using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.Logging;
using GrpcStatus = Grpc.Core.Status;

namespace Checkups.Grpc;

/// <summary>
/// Picks the connection of each call through Checkups: a lease on the server the upstream's mode and health choose, and
/// that server's ready subchannel. Built by the balancer each time the set of ready subchannels changes; the maps it reads
/// are built once, here, so a pick allocates only what Grpc.Net.Client's contract needs (the result and its tracker).
/// </summary>
internal sealed class CheckupsPicker : SubchannelPicker
{
    /// <summary>Where a pick leaves its tracker on the request, for <see cref="CheckupsGrpcStatusHandler"/> and for a second pick of the same request.</summary>
    internal static readonly HttpRequestOptionsKey<CheckupsCallTracker> TrackerKey = new("Checkups.Grpc.CallTracker");

    // The servers passed over in one pick (their connection is not ready); one list per thread, since a pick never awaits.
    [ThreadStatic]
    private static List<Server>? t_passedOver;

    private readonly UpstreamRegistry _registry;
    private readonly string _upstream;
    private readonly FrozenDictionary<string, Subchannel> _ready;
    private readonly FrozenDictionary<string, ConnectivityState> _notReady;
    private readonly BalancerSettings _settings;
    private readonly ILogger _logger;
    private volatile bool _retired;

    public CheckupsPicker(UpstreamRegistry registry, string upstream, FrozenDictionary<string, Subchannel> ready, FrozenDictionary<string, ConnectivityState> notReady, BalancerSettings settings, ILogger logger)
    {
        _registry = registry;
        _upstream = upstream;
        _ready = ready;
        _notReady = notReady;
        _settings = settings;
        _logger = logger;
    }

    /// <summary>
    /// Marks the picker replaced: the channel holds a newer one, and a pick that still reaches this one (a race inside the
    /// channel) queues rather than lease a server whose connection may be gone.
    /// </summary>
    public void Retire() => _retired = true;

    public override PickResult Pick(PickContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;

        // The channel picks again for the same request when the subchannel it was given stopped being ready before the call
        // began: the lease of that first pick is given back (no call was made on it).
        if (request is not null && request.Options.TryGetValue(TrackerKey, out var previous))
        {
            previous.ReleaseIfUnstarted();
        }

        if (_retired)
        {
            return PickResult.ForQueue();
        }

        if (!_registry.TryGet(_upstream, out var upstream))
        {
            return PickResult.ForFailure(new GrpcStatus(StatusCode.Unavailable, $"Checkups has no upstream named '{_upstream}' (it was removed)."));
        }

        var key = HashKey(request, upstream);
        if (!_registry.TryAcquireLease(upstream.Name, key, null, null, out var lease))
        {
            return PickResult.ForFailure(new GrpcStatus(StatusCode.Unavailable, $"Checkups upstream '{upstream.Name}' has no selectable server (every server is down or err)."));
        }

        return _ready.TryGetValue(lease.Server.Key, out var subchannel)
            ? Issue(request, lease, subchannel)
            : PickConnected(request, upstream, key, lease);
    }

    /// <summary>
    /// The hash key of a call: the value of the configured header (the policy's <c>hashHeader</c>, else the upstream's
    /// <c>Hash:Header</c>); else, in <c>url_hash</c> and <c>header_hash</c> modes, the method path (<c>/pkg.Service/Method</c>);
    /// else none.
    /// </summary>
    internal ReadOnlySpan<char> HashKey(HttpRequestMessage? request, Upstream upstream)
    {
        if (request is null)
        {
            return default;
        }

        if ((_settings.HashHeader ?? upstream.HashHeader) is { } header
            && request.Headers.NonValidated.TryGetValues(header, out var values))
        {
            foreach (string value in values)
            {
                if (value.Length > 0)
                {
                    return value;
                }
            }
        }

        return upstream.Mode is BalancingModes.UrlHash or BalancingModes.HeaderHash && request.RequestUri is { } uri
            ? uri.AbsolutePath
            : default;
    }

    private PickResult Issue(HttpRequestMessage? request, UpstreamLease lease, Subchannel subchannel)
    {
        var tracker = new CheckupsCallTracker(lease, _settings);
        request?.Options.Set(TrackerKey, tracker);
        return PickResult.ForSubchannel(subchannel, tracker);
    }

    /// <summary>
    /// The leased server has no ready connection (it is connecting, failing to connect, or new to the channel): it is
    /// released without a verdict, and Checkups picks again among the servers not yet passed over, at most once per server.
    /// </summary>
    private PickResult PickConnected(HttpRequestMessage? request, Upstream upstream, ReadOnlySpan<char> key, UpstreamLease lease)
    {
        var passedOver = t_passedOver ??= new List<Server>();
        try
        {
            int bound = ServerCount(upstream);
            while (true)
            {
                passedOver.Add(lease.Server);
                lease.Complete(LeaseOutcome.Cancelled);
                if (passedOver.Count >= bound || !_registry.TryAcquireLease(upstream.Name, key, null, passedOver, out lease))
                {
                    break;
                }

                if (_ready.TryGetValue(lease.Server.Key, out var subchannel))
                {
                    return Issue(request, lease, subchannel);
                }
            }

            return NoneConnected(upstream, passedOver);
        }
        finally
        {
            passedOver.Clear();
        }
    }

    /// <summary>
    /// Every server Checkups can select lacks a ready connection. While one of them is being connected (or is not known to
    /// the channel yet: the resolver is publishing it), the call waits for the next picker; when all of them failed to
    /// connect, it fails now, as Grpc.Net.Client's own policies fail a call on a channel in transient failure.
    /// </summary>
    private PickResult NoneConnected(Upstream upstream, List<Server> passedOver)
    {
        bool connecting = false;
        var servers = new StringBuilder();
        foreach (var server in passedOver)
        {
            var state = _notReady.TryGetValue(server.Key, out var known) ? known : ConnectivityState.Idle;
            connecting |= state is ConnectivityState.Idle or ConnectivityState.Connecting;
            servers.Append(servers.Length == 0 ? string.Empty : ", ").Append(server.Key).Append(' ').Append(state);
        }

        if (connecting)
        {
            GrpcLog.NoConnectedServer(_logger, upstream.Name, servers.ToString(), "the call waits for a connection");
            return PickResult.ForQueue();
        }

        string detail = servers.ToString();
        GrpcLog.NoConnectedServer(_logger, upstream.Name, detail, "the call fails");
        return PickResult.ForFailure(new GrpcStatus(StatusCode.Unavailable, $"No server of Checkups upstream '{upstream.Name}' that Checkups can select is connected: {detail}."));
    }

    private static int ServerCount(Upstream upstream)
    {
        int count = 0;
        foreach (var cluster in upstream.Clusters)
        {
            count += cluster.Servers.Length;
        }

        return count;
    }
}
