using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Registry;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using CheckupsHealth = Checkups.Status.HealthStatus;

namespace Checkups.AspNetCore;

/// <summary>
/// ASP.NET Core health check over every upstream: Unhealthy (the registration's failure status) when an upstream has
/// no selectable server, Degraded when some servers are <c>err</c>, Healthy otherwise. The data holds, per upstream,
/// how many of its servers are selectable.
/// </summary>
public sealed class CheckupsHealthCheck : IHealthCheck
{
    private readonly UpstreamRegistry _registry;

    /// <summary>Initializes a new instance of the <see cref="CheckupsHealthCheck"/> class.</summary>
    /// <param name="registry">The registry whose upstreams are checked.</param>
    public CheckupsHealthCheck(UpstreamRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _registry = registry;
    }

    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        var empty = new List<string>();
        var degraded = new List<string>();
        foreach (var (name, upstream) in _registry.GetStatus().Upstreams)
        {
            var servers = upstream.Clusters.SelectMany(c => c.Servers).ToList();
            int selectable = servers.Count(s => s.Status != CheckupsHealth.Err);
            data[name] = string.Create(CultureInfo.InvariantCulture, $"{selectable} of {servers.Count} servers selectable");
            if (selectable == 0)
            {
                empty.Add(name);
            }
            else if (selectable < servers.Count)
            {
                degraded.Add(name);
            }
        }

        var result = empty.Count > 0
            ? new HealthCheckResult(context.Registration.FailureStatus, $"no selectable server in {string.Join(", ", empty)}", data: data)
            : degraded.Count > 0
                ? HealthCheckResult.Degraded($"some servers are err in {string.Join(", ", degraded)}", data: data)
                : HealthCheckResult.Healthy($"{data.Count} upstream(s), every server selectable", data);
        return Task.FromResult(result);
    }
}
