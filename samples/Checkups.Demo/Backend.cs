using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Checkups.Demo;

/// <summary>A tiny HTTP backend on 127.0.0.1 that answers with its own name; it can be stopped and started again on its port.</summary>
internal sealed class Backend : IAsyncDisposable
{
    private WebApplication? _app;

    private Backend(string name) => Name = name;

    public string Name { get; }

    public int Port { get; private set; }

    public bool Running => _app is not null;

    public static async Task<Backend> StartAsync(string name)
    {
        var backend = new Backend(name);
        await backend.StartOnAsync(0);
        return backend;
    }

    /// <summary>Starts again on the same port (the backend "returns" after a deploy).</summary>
    public Task RestartAsync() => Running ? Task.CompletedTask : StartOnAsync(Port);

    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    private async Task StartOnAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        app.MapGet("/", async () =>
        {
            // A little work, so latency is not all zero.
            await Task.Delay(Random.Shared.Next(1, 4));
            return Results.Text(Name);
        });
        app.MapGet("/health", () => Results.Ok());
        await app.StartAsync();
        Port = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single()).Port;
        _app = app;
    }
}
