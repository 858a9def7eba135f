using System;
using System.Text;
using Checkups.AspNetCore;
using Checkups.Registry;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the Checkups admin API and status page.</summary>
public static class CheckupsEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the admin API under <paramref name="prefix"/>: <c>GET status</c>, <c>GET upstreams</c>,
    /// <c>GET|PUT|POST|DELETE upstreams/{name}</c>, and the status page at <c>GET {prefix}/</c>. Every endpoint requires
    /// authorization (the host's default policy, or <see cref="CheckupsAdminOptions.AuthorizationPolicy"/>) unless
    /// <see cref="CheckupsAdminOptions.AllowAnonymous"/> is set.
    /// </summary>
    /// <param name="endpoints">The application's endpoints; its services must hold the Checkups registry (<c>AddCheckups</c>).</param>
    /// <param name="prefix">The route prefix.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The route group, for more conventions.</returns>
    /// <exception cref="ArgumentException">An option is out of range, or the source name is already used by another source.</exception>
    /// <exception cref="InvalidOperationException">
    /// The endpoints require authorization but the host has no authentication scheme to challenge with, or no
    /// authorization services: every request would fail, so the host fails at start instead.
    /// </exception>
    public static RouteGroupBuilder MapCheckupsAdmin(this IEndpointRouteBuilder endpoints, string prefix = "/checkups", Action<CheckupsAdminOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(prefix);
        var options = new CheckupsAdminOptions();
        configure?.Invoke(options);
        options.Validate();
        if (!options.AllowAnonymous)
        {
            RequireAuthenticationServices(endpoints.ServiceProvider);
        }

        var registry = endpoints.ServiceProvider.GetRequiredService<UpstreamRegistry>();
        var writer = registry.AddWriter(options.SourceName);
        endpoints.ServiceProvider.GetService<IHostApplicationLifetime>()?.ApplicationStopped.Register(writer.Dispose);
        var api = new CheckupsAdminApi(registry, writer, options);

        var group = endpoints.MapGroup(prefix);
        if (options.AllowAnonymous)
        {
            group.AllowAnonymous();
        }
        else if (options.AuthorizationPolicy is { } policy)
        {
            group.RequireAuthorization(policy);
        }
        else
        {
            group.RequireAuthorization();
        }

        string trimmed = prefix.TrimEnd('/');
        group.MapGet("/", (HttpContext context) => CheckupsAdminApi.Page(context, trimmed));
        group.MapGet("/status", () => Results.Text(registry.GetStatus().ToJson(), "application/json", Encoding.UTF8));
        group.MapGet("/upstreams", api.List);
        group.MapGet("/upstreams/{name}", api.Get);
        group.MapPut("/upstreams/{name}", api.PutAsync);
        group.MapPost("/upstreams/{name}", api.PutAsync);
        group.MapDelete("/upstreams/{name}", api.Delete);
        return group;
    }

    private static void RequireAuthenticationServices(IServiceProvider services)
    {
        const string What = "register an authentication scheme (services.AddAuthentication(...).AddJwtBearer(...), a cookie or a scheme of your own) and services.AddAuthorization(), or set CheckupsAdminOptions.AllowAnonymous for a port nothing else can reach";
        if (services.GetService<IAuthorizationService>() is null)
        {
            throw new InvalidOperationException("MapCheckupsAdmin requires authorization, but the host has no authorization services: " + What + ".");
        }

        if (services.GetService<IAuthenticationSchemeProvider>() is not { } schemes
            || schemes.GetDefaultChallengeSchemeAsync().GetAwaiter().GetResult() is null)
        {
            throw new InvalidOperationException("MapCheckupsAdmin requires authorization, but the host has no authentication scheme to challenge unauthenticated callers with: " + What + ".");
        }
    }
}
