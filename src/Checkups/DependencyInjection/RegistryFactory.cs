using System;
using System.Collections.Frozen;
using System.Linq;
using Checkups.Configuration;
using Checkups.Diagnostics;
using Checkups.Balancing;
using Checkups.Health.Probes;
using Checkups.Registry;
using Checkups.Sources;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Checkups.DependencyInjection;

/// <summary>Builds the registry of a service provider: the configuration source, the sources registered as services, and the probes upstreams may name.</summary>
internal static class RegistryFactory
{
    public static UpstreamRegistry Create(IServiceProvider provider)
    {
        var monitor = provider.GetRequiredService<IOptionsMonitor<CheckupsOptions>>();
        var logger = provider.GetService<ILogger<UpstreamRegistry>>();
        var probeTypes = provider.GetServices<IHealthProbe>().Select(p => p.Type).ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        var options = monitor.CurrentValue;
        var registry = new UpstreamRegistry(
            options,
            provider.GetRequiredService<TimeProvider>(),
            logger,
            RandomSource.Shared,
            probeTypes,
            UpstreamSourceNames.Configuration,
            new SelectorCatalog(provider.GetServices<BalancingMode>()));
        try
        {
            // Before following the options: a reload that a torn file caused must find the failure recorded.
            var files = ConfigurationFiles.Watch(provider.GetService<BoundConfiguration>()?.FindRoot(provider.GetService<IConfiguration>()));
            registry.FollowOptions(monitor, options, files);
            foreach (var source in provider.GetServices<IUpstreamSource>())
            {
                registry.AddSource(source);
            }
        }
        catch
        {
            registry.Dispose();
            throw;
        }

        return registry;
    }
}
