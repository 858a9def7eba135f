using System;
using System.Collections.Generic;
using System.Threading;
using Checkups.Model;
using Checkups.Registry;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using GrpcStatus = Grpc.Core.Status;

namespace Checkups.Grpc;

/// <summary>
/// The <c>checkups</c> address scheme of Grpc.Net.Client: a channel for <c>checkups://&lt;upstream&gt;</c> (or
/// <c>checkups:///&lt;upstream&gt;</c>, for names that are not host names) gets the upstream's servers as its addresses, and
/// their changes live. Register it as a <see cref="ResolverFactory"/> in the channel's
/// <see cref="GrpcChannelOptions.ServiceProvider"/> (<c>AddGrpcBalancing()</c> does).
/// </summary>
/// <remarks>
/// Every server of every level or named cluster is published once, by <c>host:port</c>; the balancer
/// (<see cref="CheckupsLoadBalancerFactory"/>) connects to each and lets Checkups choose among the connected ones. The
/// resolver follows <see cref="UpstreamRegistry.Changed"/> for its upstream, whichever source changed it (configuration,
/// the run-time API, Consul). An upstream that does not exist gives the channel a failure naming it
/// (<see cref="StatusCode.Unavailable"/>), and its servers once it exists.
/// </remarks>
public sealed class CheckupsResolverFactory : ResolverFactory
{
    private readonly UpstreamRegistry _registry;

    /// <summary>Initializes the factory over <paramref name="registry"/>.</summary>
    /// <param name="registry">The registry that holds the upstreams channels are addressed to.</param>
    public CheckupsResolverFactory(UpstreamRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _registry = registry;
    }

    /// <summary>Gets the scheme this factory resolves: <see cref="CheckupsGrpc.Scheme"/>.</summary>
    /// <value><c>checkups</c>.</value>
    public override string Name => CheckupsGrpc.Scheme;

    /// <summary>Creates the resolver of one channel.</summary>
    /// <param name="options">The channel's address and logger factory.</param>
    /// <returns>The resolver.</returns>
    /// <exception cref="ArgumentException">The address names no upstream.</exception>
    public override Resolver Create(ResolverOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        string upstream = CheckupsGrpc.UpstreamOf(options.Address);
        var logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger(GrpcLog.Category);
        return new CheckupsResolver(_registry, upstream, options.Address.OriginalString, logger);
    }
}

/// <summary>
/// Publishes one upstream's servers to one channel: at start, on each registry change that names the upstream, and when
/// the channel asks (<see cref="Refresh"/>, after a connection fails). Publishing runs on the thread pool, one run at a
/// time, always from the registry's current snapshot, so a newer list is never overtaken by an older one and the channel's
/// lock is never taken while a registry change is being raised.
/// </summary>
internal sealed class CheckupsResolver : Resolver
{
    private const int Idle = 0;
    private const int Running = 1;
    private const int RunningAndRequested = 2;

    private readonly UpstreamRegistry _registry;
    private readonly string _upstream;
    private readonly string _address;
    private readonly ILogger _logger;
    private Action<ResolverResult>? _listener;
    private int _publishing;
    private volatile bool _disposed;

    public CheckupsResolver(UpstreamRegistry registry, string upstream, string address, ILogger logger)
    {
        _registry = registry;
        _upstream = upstream;
        _address = address;
        _logger = logger;
    }

    public override void Start(Action<ResolverResult> listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        if (Interlocked.CompareExchange(ref _listener, listener, null) is not null)
        {
            throw new InvalidOperationException("The resolver was already started.");
        }

        _registry.Changed += OnChanged;
        RequestPublish();
    }

    public override void Refresh()
    {
        if (_listener is null)
        {
            throw new InvalidOperationException("The resolver must be started before it is refreshed.");
        }

        RequestPublish();
    }

    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        _registry.Changed -= OnChanged;
        base.Dispose(disposing);
    }

    /// <summary>The addresses of <paramref name="upstream"/>: one per distinct <c>host:port</c>, in level and server order.</summary>
    internal static List<BalancerAddress> AddressesOf(Upstream upstream)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var addresses = new List<BalancerAddress>();
        foreach (var cluster in upstream.Clusters)
        {
            foreach (var server in cluster.Servers)
            {
                if (!keys.Add(server.Key))
                {
                    continue;
                }

                var address = new BalancerAddress(server.Host, server.Port);
                address.Attributes.Set(ServerAttributes.ServerKey, server.Key);
                address.Attributes.Set(ServerAttributes.Upstream, upstream.Name);
                addresses.Add(address);
            }
        }

        return addresses;
    }

    private void OnChanged(object? sender, UpstreamsChangedEventArgs change)
    {
        if (Names(change.Updated, _upstream) || Names(change.Removed, _upstream))
        {
            RequestPublish();
        }

        static bool Names(IReadOnlyList<string> names, string upstream)
        {
            foreach (string name in names)
            {
                if (string.Equals(name, upstream, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>Asks for a publication: starts the one worker, or tells the running one to go round once more.</summary>
    private void RequestPublish()
    {
        while (true)
        {
            int state = Volatile.Read(ref _publishing);
            if (state == RunningAndRequested)
            {
                return;
            }

            if (Interlocked.CompareExchange(ref _publishing, state == Idle ? Running : RunningAndRequested, state) != state)
            {
                continue;
            }

            if (state == Idle)
            {
                ThreadPool.UnsafeQueueUserWorkItem(static resolver => resolver.PublishLoop(), this, preferLocal: false);
            }

            return;
        }
    }

    private void PublishLoop()
    {
        do
        {
            Volatile.Write(ref _publishing, Running);
            if (!_disposed)
            {
                Publish();
            }
        }
        while (Interlocked.CompareExchange(ref _publishing, Idle, Running) != Running);
    }

    private void Publish()
    {
        var listener = _listener!;
        ResolverResult result;
        if (!_registry.TryGet(_upstream, out var upstream))
        {
            GrpcLog.UpstreamNotFound(_logger, _address, _upstream);
            result = ResolverResult.ForFailure(new GrpcStatus(StatusCode.Unavailable, $"Checkups has no upstream named '{_upstream}' (channel address {_address})."));
        }
        else
        {
            var addresses = AddressesOf(upstream);
            result = addresses.Count == 0
                ? ResolverResult.ForFailure(new GrpcStatus(StatusCode.Unavailable, $"Checkups upstream '{upstream.Name}' has no servers."))
                : ResolverResult.ForResult(addresses);
            GrpcLog.ServersPublished(_logger, _address, addresses.Count, upstream.Name, upstream.Version);
        }

        try
        {
            listener(result);
        }
        catch (Exception ex) when (!_disposed)
        {
            // The channel's own failure (its balancer threw): logged here, since nothing awaits this thread.
            GrpcLog.PublishFailed(_logger, _address, _upstream, ex);
        }
        catch (Exception)
        {
            // A channel disposed while its resolver published: nothing is listening any more.
        }
    }
}
