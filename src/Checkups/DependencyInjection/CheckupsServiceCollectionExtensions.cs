using System;
using System.Diagnostics.Metrics;
using Checkups.Configuration;
using Checkups.Diagnostics;
using Checkups.Health.Heartbeat;
using Checkups.Health.Probes;
using Checkups.DependencyInjection;
using Checkups.Registry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Checkups in a service collection.</summary>
public static class CheckupsServiceCollectionExtensions
{
    /// <summary>
    /// Adds Checkups with options bound from <paramref name="configuration"/> (usually the <c>Checkups</c> section),
    /// validated when the host starts. Reloads of that configuration reach the registry through the same validation;
    /// a bad reload is logged and the previous upstreams stay in force.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration section holding <see cref="CheckupsOptions"/>.</param>
    /// <returns>A builder for further Checkups registrations.</returns>
    public static ICheckupsBuilder AddCheckups(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        // Bound through Configure rather than Bind: Bind would also register a reload token, and the options monitor
        // throws from inside the configuration reload when validation fails. Reloads go through the registry instead.
        services.AddOptions<CheckupsOptions>().Configure(options => CheckupsConfigurationReader.Bind(configuration, options));
        services.AddSingleton(new CheckupsConfigurationSource(configuration));
        return AddCore(services);
    }

    /// <summary>Adds Checkups with options set in code, validated when the host starts.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>A builder for further Checkups registrations.</returns>
    public static ICheckupsBuilder AddCheckups(this IServiceCollection services, Action<CheckupsOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<CheckupsOptions>().Configure(configure);
        return AddCore(services);
    }

    private static CheckupsBuilder AddCore(IServiceCollection services)
    {
        services.AddOptions<CheckupsOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CheckupsOptions>, CheckupsOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(static provider => new CheckupsMetrics(provider.GetService<IMeterFactory>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHealthProbe, TcpProbe>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHealthProbe, HttpProbe>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHealthProbe, RedisProbe>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHealthProbe, MySqlProbe>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, HeartbeatService>());
        services.TryAddSingleton(static provider =>
        {
            var registry = new UpstreamRegistry(
                provider.GetRequiredService<IOptions<CheckupsOptions>>().Value,
                provider.GetRequiredService<TimeProvider>(),
                provider.GetService<ILogger<UpstreamRegistry>>());
            if (provider.GetService<CheckupsConfigurationSource>() is { } source)
            {
                registry.WatchConfiguration(source.Configuration);
            }

            return registry;
        });
        return new CheckupsBuilder(services);
    }
}
