using System;
using Checkups.Consul;
using Checkups.DependencyInjection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Feeds upstreams from Consul.</summary>
public static class ConsulCheckupsBuilderExtensions
{
    /// <summary>
    /// Adds a Consul watch, run by the host: it reads the upstream's server list from Consul when the host starts (or
    /// from its dump when Consul cannot be reached), then follows changes with blocking queries. The watch owns the
    /// upstream (source <c>consul:{upstream}</c>).
    /// </summary>
    /// <param name="builder">The Checkups builder.</param>
    /// <param name="configure">Sets the watch's options; <see cref="ConsulOptions.Upstream"/> is required.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">An option is missing or out of range.</exception>
    public static ICheckupsBuilder AddConsul(this ICheckupsBuilder builder, Action<ConsulOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new ConsulOptions();
        configure(options);
        return Add(builder, options);
    }

    /// <summary>As <see cref="AddConsul(ICheckupsBuilder, Action{ConsulOptions})"/>, with the options bound from a configuration section.</summary>
    /// <param name="builder">The Checkups builder.</param>
    /// <param name="section">The section holding <see cref="ConsulOptions"/> (e.g. <c>Checkups:Consul:api</c>).</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">An option is missing or out of range.</exception>
    public static ICheckupsBuilder AddConsul(this ICheckupsBuilder builder, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(section);
        var options = new ConsulOptions();
        section.Bind(options, binder => binder.ErrorOnUnknownConfiguration = true);
        return Add(builder, options);
    }

    private static ICheckupsBuilder Add(ICheckupsBuilder builder, ConsulOptions options)
    {
        // Checked now, so that a bad option fails at registration, not at the first request.
        options.Validate();
        builder.Services.AddSingleton(new ConsulWatchRegistration(options));
        builder.Services.TryAddSingleton<ConsulWatchService>();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ConsulWatchService>(static provider => provider.GetRequiredService<ConsulWatchService>()));
        return builder;
    }
}
