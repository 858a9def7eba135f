using System;
using System.Collections.Generic;
using Checkups.AspNetCore;
using Checkups.Registry;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Checkups health check.</summary>
public static class CheckupsHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds <see cref="CheckupsHealthCheck"/>: <paramref name="failureStatus"/> (Unhealthy by default) when an upstream has
    /// no selectable server, Degraded when some servers are <c>err</c>.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name.</param>
    /// <param name="failureStatus">What an upstream without a selectable server reports; <see langword="null"/> for Unhealthy.</param>
    /// <param name="tags">Tags to filter checks by.</param>
    /// <returns>The builder.</returns>
    public static IHealthChecksBuilder AddCheckups(this IHealthChecksBuilder builder, string name = "checkups", HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return builder.Add(new HealthCheckRegistration(
            name,
            services => new CheckupsHealthCheck(services.GetRequiredService<UpstreamRegistry>()),
            failureStatus,
            tags));
    }
}
