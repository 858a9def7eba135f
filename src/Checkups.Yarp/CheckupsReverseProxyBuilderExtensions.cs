using System;
using Checkups.Http;
using Checkups.Registry;
using Checkups.Yarp;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Checkups inside YARP.</summary>
public static class CheckupsReverseProxyBuilderExtensions
{
    /// <summary>
    /// Runs YARP clusters on Checkups upstreams: a cluster bound to an upstream (by <see cref="CheckupsYarpMetadata.Upstream"/>
    /// metadata, or by its id) gets the upstream's servers as destinations, live, from whichever source owns it; and
    /// YARP's policies named <c>Checkups</c> (load balancing, available destinations, passive health). Add
    /// <c>UseCheckups()</c> to the proxy pipeline for the full integration: the upstream's mode and health pick each
    /// attempt, and failures before the response starts are retried on another destination. The registry comes from
    /// <c>services.AddCheckups(…)</c>.
    /// </summary>
    /// <param name="builder">YARP's builder.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public static IReverseProxyBuilder AddCheckups(this IReverseProxyBuilder builder, Action<CheckupsYarpOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new CheckupsYarpOptions();
        configure?.Invoke(options);
        options.Validate();
        var services = builder.Services;
        services.AddSingleton(options);
        services.TryAddSingleton(static provider => new ClusterBinding(Registry(provider), provider.GetRequiredService<CheckupsYarpOptions>()));
        services.TryAddSingleton(static provider => new CheckupsForwarding(
            Registry(provider),
            provider.GetRequiredService<IHttpForwarder>(),
            provider.GetRequiredService<ClusterBinding>(),
            provider.GetRequiredService<CheckupsYarpOptions>(),
            new CheckupsHttpTelemetry(provider.GetService<System.Diagnostics.Metrics.IMeterFactory>(), provider.GetService<ILoggerFactory>()),
            provider.GetService<TimeProvider>() ?? TimeProvider.System));
        services.AddSingleton<IProxyConfigProvider>(static provider => new CheckupsChangeSignal(Registry(provider), provider.GetRequiredService<ClusterBinding>()));
        services.AddSingleton<ILoadBalancingPolicy, CheckupsLoadBalancingPolicy>();
        services.AddSingleton<IAvailableDestinationsPolicy, CheckupsAvailableDestinationsPolicy>();
        services.AddSingleton<IPassiveHealthCheckPolicy, CheckupsPassiveHealthPolicy>();
        builder.AddConfigFilter<CheckupsClusterFilter>();
        return builder;
    }

    private static UpstreamRegistry Registry(IServiceProvider provider) =>
        provider.GetService<UpstreamRegistry>()
            ?? throw new InvalidOperationException("Checkups in YARP needs the Checkups registry: call services.AddCheckups(…) (from the Checkups package) as well as AddReverseProxy().AddCheckups().");
}
