using System;
using System.Collections.Generic;
using System.Net;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Matching;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Checkups.Gateway.Admin;

/// <summary>Marks an endpoint as served on the admin port only (the admin API, the status page, the health check).</summary>
internal sealed class AdminPortOnly
{
    public static AdminPortOnly Instance { get; } = new();

    private AdminPortOnly()
    {
    }
}

/// <summary>The two loopback listeners: the gateway's and the admin API's. Ports are known once Kestrel has bound them.</summary>
internal sealed class Listeners
{
    public ListenOptions? Gateway { get; set; }

    public ListenOptions? Admin { get; set; }

    /// <summary>Gets the admin listener's bound port (a free port is known only after binding); -1 before.</summary>
    public int AdminPort => Admin?.EndPoint is IPEndPoint { Port: > 0 } bound ? bound.Port : -1;

    public Uri GatewayAddress => Address(Gateway);

    public Uri AdminAddress => Address(Admin);

    private static Uri Address(ListenOptions? listener) =>
        listener?.EndPoint is IPEndPoint { Port: > 0 } bound
            ? new Uri($"http://127.0.0.1:{bound.Port}/")
            : throw new InvalidOperationException("The listener is not bound yet: the host has not started.");
}

/// <summary>
/// Splits the endpoints between the two ports during routing, by the port the connection came in on: on the admin port
/// only <see cref="AdminPortOnly"/> endpoints are candidates, on the gateway port only the others (the proxy's routes).
/// A Host-header filter (<c>RequireHost</c>) would not do: the Host header is whatever the client writes, so a request
/// to the gateway port could claim the admin port's host. And on the gateway port a path such as <c>/checkups/status</c>
/// goes to the proxy's routes as any other path does.
/// </summary>
internal sealed class AdminPortMatcherPolicy(Listeners listeners) : MatcherPolicy, IEndpointSelectorPolicy
{
    public override int Order => 0;

    public bool AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints) => endpoints.Count > 0;

    public Task ApplyAsync(HttpContext httpContext, CandidateSet candidates)
    {
        bool onAdminPort = httpContext.Connection.LocalPort == listeners.AdminPort;
        for (int i = 0; i < candidates.Count; i++)
        {
            if (candidates.IsValidCandidate(i) && (candidates[i].Endpoint.Metadata.GetMetadata<AdminPortOnly>() is not null) != onAdminPort)
            {
                candidates.SetValidity(i, false);
            }
        }

        return Task.CompletedTask;
    }
}
