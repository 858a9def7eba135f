using System;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Gateway.Admin;
using Checkups.Gateway.Demo;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Checkups.Gateway;

/// <summary>Builds the gateway, runs it until Ctrl+C (or through the smoke run), and stops everything it started.</summary>
internal static class GatewayHost
{
    public static async Task<int> RunAsync(GatewayArguments arguments)
    {
        // appsettings.json next to the binary (whatever the working directory), the environment, then the command line.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(arguments.Configuration);
        var settings = GatewaySettings.Read(builder.Configuration, out var errors);
        if (errors.Count > 0)
        {
            Console.Error.WriteLine("Gateway: invalid settings:" + Environment.NewLine + "  " + string.Join(Environment.NewLine + "  ", errors));
            return 2;
        }

        // Demo mode: a backend for every configured server, and the configured hosts and ports replaced by theirs.
        await using var demo = arguments.Demo ? await DemoBackends.StartAsync(builder.Configuration) : null;
        if (demo is not null)
        {
            builder.Configuration.AddInMemoryCollection(demo.Configuration);
        }

        var live = LiveUpstreams.Read(builder.Configuration);

        // Consul in demo mode: the demo backends become the live upstreams' keys (deleted again at the end).
        await using var consulKeys = settings.Consul is { } agent && demo is not null ? await live.PutIntoConsulAsync(agent) : null;

        var listeners = new Listeners();
        builder.WebHost.UseKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, settings.Port, listen => listeners.Gateway = listen);
            kestrel.Listen(IPAddress.Loopback, settings.AdminPort, listen => listeners.Admin = listen);
        });

        var checkups = builder.Services.AddCheckups(builder.Configuration.GetSection(CheckupsOptions.SectionName));
        if (settings.Consul is { } consul)
        {
            live.AddConsulWatches(checkups, consul);
        }

        builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy")).AddCheckups();
        builder.Services.AddHealthChecks().AddCheckups();

        // The admin port: its endpoints are candidates only there (and the proxy's only on the gateway port).
        builder.Services.AddSingleton(listeners);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<MatcherPolicy, AdminPortMatcherPolicy>());

        // The admin token. No default authenticate scheme: proxied requests are never authenticated (their Authorization
        // headers are the backends' business); only the admin policy runs the handler.
        builder.Services.AddAuthentication(options => options.DefaultChallengeScheme = AdminTokenHandler.SchemeName)
            .AddScheme<AdminTokenOptions, AdminTokenHandler>(AdminTokenHandler.SchemeName, options => options.Token = settings.AdminToken);
        builder.Services.AddAuthorization(options => options.AddPolicy(
            AdminTokenHandler.PolicyName,
            policy => policy.AddAuthenticationSchemes(AdminTokenHandler.SchemeName).RequireAuthenticatedUser()));

        await using var app = builder.Build();
        app.UseRouting();        // the matcher policy picks each port's endpoints here
        app.UseAuthorization();  // the admin endpoints' policy (the token); the proxy's routes need none
        app.MapCheckupsAdmin("/checkups", options => options.AuthorizationPolicy = AdminTokenHandler.PolicyName).WithMetadata(AdminPortOnly.Instance);
        app.MapHealthChecks("/health").WithMetadata(AdminPortOnly.Instance);
        app.MapReverseProxy(proxy => proxy.UseCheckups());
        await app.StartAsync();
        try
        {
            using var admin = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = listeners.AdminAddress, Timeout = TimeSpan.FromSeconds(15) };
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", settings.AdminToken);
            if (settings.Consul is null)
            {
                await live.CreateThroughAdminApiAsync(admin);
            }

            Print(listeners, settings, live, demo);
            if (arguments.Smoke)
            {
                using var smoke = new Smoke(listeners, settings.AdminToken, demo!, consulKeys);
                return await smoke.RunAsync() ? 0 : 1;
            }

            Console.WriteLine("Ctrl+C stops the gateway" + (demo is null ? "." : " and its demo backends."));
            await app.WaitForShutdownAsync();
            return 0;
        }
        finally
        {
            // Then the demo backends and the Consul keys, as their 'await using' ends.
            await app.StopAsync();
        }
    }

    private static void Print(Listeners listeners, GatewaySettings settings, LiveUpstreams live, DemoBackends? demo)
    {
        string gateway = listeners.GatewayAddress.ToString().TrimEnd('/');
        string admin = listeners.AdminAddress.ToString().TrimEnd('/');
        string token = settings.AdminToken;
        string liveNames = string.Join(", ", live.Upstreams.Keys);
        Console.WriteLine($"""
            Checkups gateway (YARP routes on Checkups upstreams)
              gateway  {gateway}   Host img.local -> imgprocess, /api/ -> api, /sessions/ -> sessions (hashed by X-User)
              admin    {admin}/checkups/   status page and admin API (/checkups/status, /checkups/upstreams), /health
              token    {token}{(settings.AdminTokenGenerated ? "   (random; choose one with --admin-token)" : string.Empty)}
                       curl: -H 'Authorization: Bearer <token>'; a browser asks for a user (any) and a password (the token)
              owners   imgprocess, sessions: configuration (appsettings.json, Checkups section);
                       {liveNames}: {(settings.Consul is { } c ? $"Consul at {c} (keys upstreams/<name>/<host:port>); the admin API answers 409" : "the admin API (created through it at start)")}
            """);
        if (demo is not null)
        {
            Console.WriteLine("  backends " + string.Join(", ", demo.All.Select(b => $"{b.Name} {b.Port}")) + " (all on 127.0.0.1)");
        }

        string spare = demo is null ? "\"host\": \"10.0.0.9\", \"port\": 8080" : $"\"host\": \"127.0.0.1\", \"port\": {demo.Spare.Port}";
        Console.WriteLine($"""

            Try:
              curl -H 'Host: img.local' {gateway}/thumbnails/1.jpg
              curl {gateway}/api/items
              curl -H 'X-User: alice' {gateway}/sessions/cart
              curl -H 'Authorization: Bearer {token}' {admin}/checkups/upstreams/api
            """);
        if (settings.Consul is { } consul)
        {
            string key = demo is null ? "10.0.0.9:8080" : demo.Spare.Key;
            Console.WriteLine($$"""
                  curl -X PUT {{consul}}v1/kv/upstreams/api/{{key}} -d '{"weight": 1}'    # Consul owns api: add a server there
                """);
        }
        else
        {
            Console.WriteLine($$"""
                  curl -X PUT {{admin}}/checkups/upstreams/api -H 'Authorization: Bearer {{token}}' -H 'Content-Type: application/json' -d '{"servers": [{ {{spare}} }]}'
                  curl {{gateway}}/api/items    # now answered by {{(demo is null ? "the new server" : "spare")}}
                """);
        }

        Console.WriteLine($"  curl -H 'Authorization: Bearer {token}' {admin}/checkups/status");
    }
}
