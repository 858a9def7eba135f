using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Checkups.Gateway.Demo;

/// <summary>
/// A tiny HTTP backend on a free 127.0.0.1 port that answers every request with its own name (body and
/// <c>X-Backend</c>), and <c>/health</c> with 200 for the http heartbeat.
/// </summary>
internal sealed class DemoBackend : IAsyncDisposable
{
    private readonly WebApplication _app;

    private DemoBackend(WebApplication app, string name, string upstream, int level, int port)
    {
        _app = app;
        Name = name;
        Upstream = upstream;
        Level = level;
        Port = port;
    }

    public string Name { get; }

    /// <summary>Gets the upstream whose configured server this backend stands in for; empty for the spare.</summary>
    public string Upstream { get; }

    /// <summary>Gets the priority level (1 first) of the configured server it stands in for.</summary>
    public int Level { get; }

    public int Port { get; }

    public string Key => $"127.0.0.1:{Port}";

    public static async Task<DemoBackend> StartAsync(string name, string upstream, int level)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.Run(context =>
        {
            if (context.Request.Path == "/health")
            {
                return context.Response.WriteAsync("ok");
            }

            context.Response.Headers["X-Backend"] = name;
            return context.Response.WriteAsync(name);
        });
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        int port = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single()).Port;
        return new DemoBackend(app, name, upstream, level, port);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
