using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Checkups.TestUtils;

/// <summary>A real Kestrel server on 127.0.0.1 and a free port, with endpoints a health check meets in the wild.</summary>
public sealed class KestrelBackend : IAsyncDisposable
{
    private readonly WebApplication _app;

    private KestrelBackend(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    /// <summary>
    /// <c>/ok</c> 200, <c>/fail</c> 500, <c>/missing</c> 404, <c>/moved</c> 302, <c>/hang</c> never answers,
    /// <c>/host</c> 200 only for Host api.internal (else 421), <c>/method</c> 200 for HEAD (else 405).
    /// </summary>
    public static async Task<KestrelBackend> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/ok", () => Results.Ok());
        app.MapGet("/fail", () => Results.StatusCode(500));
        app.MapGet("/missing", () => Results.NotFound());
        app.MapGet("/moved", () => Results.Redirect("/ok"));
        app.MapGet("/hang", async (CancellationToken aborted) =>
        {
            await new TaskCompletionSource().Task.WaitAsync(aborted);
            return Results.Ok();
        });
        app.MapGet("/host", (HttpRequest request) => request.Host.Host == "api.internal" ? Results.Ok() : Results.StatusCode(421));
        app.MapMethods("/method", new[] { "GET", "HEAD" }, (HttpRequest request) => request.Method == "HEAD" ? Results.Ok() : Results.StatusCode(405));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new KestrelBackend(app, new Uri(address).Port);
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }
}
