using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.DependencyInjection;
using Checkups.Registry;
using Checkups.Yarp;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Configuration;

namespace Checkups.Yarp.Tests;

/// <summary>
/// YARP in-process on Kestrel (127.0.0.1, a free port), with Checkups: one route (every path) to the cluster
/// <c>api</c>, bound to the Checkups upstream <c>api</c>, forwarded through <c>UseCheckups()</c> unless told to use YARP's
/// own pipeline.
/// </summary>
internal sealed class YarpProxy : IAsyncDisposable
{
    private readonly WebApplication _app;

    private YarpProxy(WebApplication app)
    {
        _app = app;
        Address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        Client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(60) };
        Registry = app.Services.GetRequiredService<UpstreamRegistry>();
    }

    public Uri Address { get; }

    public HttpClient Client { get; }

    public UpstreamRegistry Registry { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<YarpProxy> StartAsync(
        UpstreamOptions? upstream,
        Action<CheckupsYarpOptions>? yarp = null,
        IReadOnlyDictionary<string, string>? clusterMetadata = null,
        Action<ICheckupsBuilder>? checkups = null,
        TimeProvider? time = null,
        bool useCheckups = true,
        string clusterId = "api")
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        var registered = builder.Services.AddCheckups(options => options.HeartbeatEnabled = false);
        checkups?.Invoke(registered);
        var route = new RouteConfig { RouteId = "all", ClusterId = clusterId, Match = new RouteMatch { Path = "{**rest}" } };
        var cluster = new ClusterConfig { ClusterId = clusterId, Metadata = clusterMetadata };
        builder.Services.AddReverseProxy().LoadFromMemory(new[] { route }, new[] { cluster }).AddCheckups(yarp);
        var app = builder.Build();
        if (upstream is not null)
        {
            // Owned by the run-time API, so a test can change or remove it.
            app.Services.GetRequiredService<UpstreamRegistry>().Update("api", upstream);
        }

        if (useCheckups)
        {
            app.MapReverseProxy(proxy => proxy.UseCheckups());
        }
        else
        {
            app.MapReverseProxy();
        }

        await app.StartAsync();
        return new YarpProxy(app);
    }

    /// <summary>An upstream of the backends, weights as given (1 when not).</summary>
    public static UpstreamOptions Upstream(IReadOnlyList<TestUtils.Backend> backends, params int[] weights)
    {
        var upstream = new UpstreamOptions();
        for (int i = 0; i < backends.Count; i++)
        {
            upstream.Servers.Add(new ServerOptions { Host = "127.0.0.1", Port = backends[i].Port, Weight = weights.Length > i ? weights[i] : 1 });
        }

        return upstream;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
