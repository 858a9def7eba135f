using System;
using Checkups.Http;
using Checkups.Registry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Balances an <see cref="System.Net.Http.HttpClient"/> over a Checkups upstream.</summary>
public static class CheckupsHttpClientBuilderExtensions
{
    /// <summary>
    /// Sends the client's requests addressed to <paramref name="upstream"/> (<c>http://&lt;upstream&gt;/…</c>, or relative
    /// to such a base address) to the upstream's servers, with retries on another server. Needs <c>AddCheckups</c>.
    /// </summary>
    /// <remarks>
    /// One balancer per client: ServiceDiscovery's handler (<c>AddServiceDiscovery()</c> on this client, or on every client
    /// through <c>ConfigureHttpClientDefaults</c>) is left out of this client's chain, and logged once (event 107). A
    /// resilience handler outside this one (<c>AddStandardResilienceHandler()</c>) owns the retries: each of its attempts is
    /// one Checkups try (event 106).
    /// </remarks>
    /// <param name="builder">The client's builder.</param>
    /// <param name="upstream">The upstream name.</param>
    /// <returns>The builder.</returns>
    public static IHttpClientBuilder AddCheckups(this IHttpClientBuilder builder, string upstream) =>
        AddCheckups(builder, upstream, static _ => { });

    /// <summary>As <see cref="AddCheckups(IHttpClientBuilder, string)"/>, with options (named after the client).</summary>
    /// <param name="builder">The client's builder.</param>
    /// <param name="upstream">The upstream name.</param>
    /// <param name="configure">Sets the client's options.</param>
    /// <returns>The builder.</returns>
    public static IHttpClientBuilder AddCheckups(this IHttpClientBuilder builder, string upstream, Action<CheckupsHttpOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(upstream);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<CheckupsHttpOptions>(builder.Name).Configure(configure);
        return AddHandler(builder, upstream);
    }

    /// <summary>As <see cref="AddCheckups(IHttpClientBuilder, string)"/>, with options bound from a configuration section.</summary>
    /// <param name="builder">The client's builder.</param>
    /// <param name="upstream">The upstream name.</param>
    /// <param name="section">The section holding <see cref="CheckupsHttpOptions"/>.</param>
    /// <returns>The builder.</returns>
    public static IHttpClientBuilder AddCheckups(this IHttpClientBuilder builder, string upstream, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(upstream);
        ArgumentNullException.ThrowIfNull(section);
        builder.Services.AddOptions<CheckupsHttpOptions>(builder.Name).Bind(section);
        return AddHandler(builder, upstream);
    }

    private static IHttpClientBuilder AddHandler(IHttpClientBuilder builder, string upstream)
    {
        string name = builder.Name;
        builder.Services.TryAddSingleton<HttpClientState>();
        builder.Services.AddSingleton(new CheckupsClient(name, upstream));
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Http.IHttpMessageHandlerBuilderFilter, OneBalancerFilter>());

        // A handler per handler chain the factory builds (transient); the retry budget is the client's, kept across them.
        return builder.AddHttpMessageHandler(provider =>
        {
            var options = provider.GetRequiredService<IOptionsMonitor<CheckupsHttpOptions>>().Get(name);
            var time = provider.GetService<TimeProvider>() ?? TimeProvider.System;
            var state = provider.GetRequiredService<HttpClientState>();
            return new CheckupsHttpHandler(
                provider.GetRequiredService<UpstreamRegistry>(),
                upstream,
                options,
                time,
                state.BudgetOf(name, options, time),
                state.Metrics,
                provider.GetService<ILoggerFactory>()?.CreateLogger(HttpLog.Category));
        });
    }
}
