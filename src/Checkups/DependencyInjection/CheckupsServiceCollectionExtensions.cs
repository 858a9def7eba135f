using System;
using System.Diagnostics.Metrics;
using Checkups.Configuration;
using Checkups.Sources;
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
    /// Adds Checkups with options bound from <paramref name="configuration"/> (usually the <c>Checkups</c> section). The
    /// options pipeline is the configuration source: <c>Configure</c> and <c>PostConfigure</c> of
    /// <see cref="CheckupsOptions"/> apply to the first configuration and to every reload. Everything is validated when the
    /// host starts (a <see cref="CheckupsValidationException"/> lists every problem); a bad reload is logged and the last
    /// good configuration stays in force, global settings included.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration section holding <see cref="CheckupsOptions"/>.</param>
    /// <returns>A builder for further Checkups registrations.</returns>
    public static ICheckupsBuilder AddCheckups(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        // The reader never throws (it records problems for the registry to reject whole), so a reload always reaches the
        // registry through the options monitor, and a bad one is logged there instead of failing inside the file watcher.
        var bound = new BoundConfiguration(configuration);
        services.AddOptions<CheckupsOptions>();
        services.AddSingleton(bound);
        services.AddSingleton<IConfigureOptions<CheckupsOptions>>(provider => new ConfigureFromConfiguration(bound, provider.GetService<IConfiguration>()));
        services.AddSingleton<IOptionsChangeTokenSource<CheckupsOptions>>(new ConfigurationChangeTokenSource<CheckupsOptions>(configuration));
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
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(static provider => new CheckupsMetrics(provider.GetService<IMeterFactory>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHealthProbe, TcpProbe>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHealthProbe, HttpProbe>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHealthProbe, RedisProbe>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHealthProbe, MySqlProbe>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, HeartbeatService>());

        // The heartbeat (a hosted service) needs the registry, so the registry is built, and bad options are reported,
        // when the host starts: one exception type, CheckupsValidationException, whatever the entry point.
        services.TryAddSingleton(static provider => RegistryFactory.Create(provider));
        return new CheckupsBuilder(services);
    }
}
