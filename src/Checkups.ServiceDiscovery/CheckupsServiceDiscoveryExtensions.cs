using System;
using System.Linq;
using Checkups.DependencyInjection;
using Checkups.Registry;
using Checkups.ServiceDiscovery;
using Checkups.Sources;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.ServiceDiscovery;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Checkups upstreams fed by Microsoft.Extensions.ServiceDiscovery.</summary>
public static class CheckupsServiceDiscoveryExtensions
{
    /// <summary>
    /// Feeds an upstream from ServiceDiscovery: the endpoints its providers give for <paramref name="query"/> (configuration
    /// <c>Services:api:https:0</c>, Aspire's <c>services__api__http__0</c>, DNS or any provider registered) become the
    /// upstream's servers, and follow their changes. The upstream is owned by the source <c>servicediscovery</c> and named
    /// after the query's service (<c>https+http://api</c> → <c>api</c>). When no endpoint provider is registered, the
    /// configuration one is (not the pass-through one, which would turn a misspelled name into a server).
    /// </summary>
    /// <param name="builder">The Checkups builder.</param>
    /// <param name="query">The service, as ServiceDiscovery's users write it: <c>api</c>, <c>https+http://api</c>, <c>http://_grpc.api</c>.</param>
    /// <param name="configure">Sets the upstream's name, its options and its servers' options.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public static ICheckupsBuilder AddServiceDiscovery(this ICheckupsBuilder builder, string query, Action<ServiceDiscoveryUpstreamOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(query);
        var options = new ServiceDiscoveryUpstreamOptions { Query = query };
        configure?.Invoke(options);
        options.Validate();
        var services = builder.Services;
        if (!services.Any(d => d.ServiceType == typeof(IServiceEndpointProviderFactory)))
        {
            services.AddServiceDiscoveryCore();
            services.AddConfigurationServiceEndpointProvider();
        }

        services.AddSingleton(options);
        services.TryAddSingleton<ServiceDiscoverySource>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IUpstreamSource, ServiceDiscoverySource>(static provider => provider.GetRequiredService<ServiceDiscoverySource>()));
        services.TryAddSingleton(static provider => new ServiceDiscoveryWatch(
            provider.GetRequiredService<ServiceEndpointResolver>(),
            provider.GetRequiredService<UpstreamRegistry>(),
            provider.GetRequiredService<ServiceDiscoverySource>(),
            provider.GetServices<ServiceDiscoveryUpstreamOptions>(),
            provider.GetService<TimeProvider>(),
            provider.GetService<ILogger<ServiceDiscoveryWatch>>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ServiceDiscoveryWatch>(static provider => provider.GetRequiredService<ServiceDiscoveryWatch>()));
        return builder;
    }
}
