using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Checkups.Demo;

/// <summary>A tiny HTTP backend on 127.0.0.1 and a free port that answers with its own name.</summary>
internal sealed class Backend : IAsyncDisposable
{
    private readonly WebApplication _app;

    private Backend(string name, WebApplication app, int port)
    {
        Name = name;
        _app = app;
        Port = port;
    }


    public string Name { get; }

    public int Port { get; }

    public bool Running { get; private set; } = true;

    /// <summary>Gets or sets what <c>/health</c> answers: 200 when healthy, 503 otherwise (the request path is unaffected).</summary>
    public bool Healthy { get; set; } = true;

    public static async Task<Backend> StartAsync(string name)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        Backend? backend = null;
        app.MapGet("/", () => Results.Text(name));
        app.MapGet("/health", () => backend!.Healthy ? Results.Ok() : Results.StatusCode(503));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        backend = new Backend(name, app, new Uri(address).Port);
        return backend;
    }

    public async Task StopAsync()
    {
        if (Running)
        {
            Running = false;
            await _app.StopAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _app.DisposeAsync();
    }
}
