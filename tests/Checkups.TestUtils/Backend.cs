using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Checkups.TestUtils;

/// <summary>
/// A real Kestrel server on 127.0.0.1 that answers with its name (and echoes a request body), or with a chosen status,
/// or never answers until the client goes away. It can be stopped and started again on the same port.
/// </summary>
public sealed class Backend : IAsyncDisposable
{
    private readonly CancellationTokenSource _disposed = new();
    private WebApplication? _app;
    private readonly Pulse _served = new();
    private int _requests;

    private Backend(string name) => Name = name;

    public string Name { get; }

    public int Port { get; private set; }

    /// <summary>Gets or sets the status every request is answered with (200: the name, or the echoed body).</summary>
    public int Status { get; set; } = 200;

    /// <summary>Gets or sets whether requests are held without an answer until the client gives up.</summary>
    public bool Hang { get; set; }

    /// <summary>
    /// Gets or sets a task every request waits for before it is answered (a request held in flight until the test lets it
    /// go); <see langword="null"/> answers at once.
    /// </summary>
    public Task? Gate { get; set; }

    /// <summary>
    /// Gets or sets a task the rest of the answer waits for: the status and the name are sent and flushed at once, the
    /// rest (<c>:done</c>) when the task completes (a body streamed slowly); <see langword="null"/> sends it all at once.
    /// </summary>
    public Task? BodyGate { get; set; }

    /// <summary>Gets the requests that reached this backend.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>
    /// Completes with <see langword="true"/> once <see cref="Requests"/> reaches <paramref name="count"/> (woken by each
    /// request, not a poll); <see langword="false"/> when <paramref name="bound"/> (default <see cref="Pulse.Bound"/>) ran
    /// out first.
    /// </summary>
    public Task<bool> WhenRequestsAsync(int count, TimeSpan? bound = null) => _served.UntilAsync(() => Requests >= count, bound);

    /// <summary>
    /// Completes with <see langword="true"/> once <paramref name="condition"/> holds, checked now and at each request to
    /// any of <paramref name="backends"/>; <see langword="false"/> when <paramref name="bound"/> ran out first.
    /// </summary>
    public static Task<bool> WhenAsync(IEnumerable<Backend> backends, Func<bool> condition, TimeSpan? bound = null) =>
        Pulse.UntilAsync(backends.Select(b => b._served).ToArray(), condition, bound);

    /// <summary>Gets the body of the last request that had one.</summary>
    public string? LastBody { get; private set; }

    /// <summary>Gets the Host header of the last request.</summary>
    public string? LastHost { get; private set; }

    public static async Task<Backend> StartAsync(string name)
    {
        var backend = new Backend(name);
        await backend.StartOnAsync(0);
        return backend;
    }

    /// <summary>Starts one backend per name into <paramref name="backends"/>.</summary>
    public static async Task StartAllAsync(List<Backend> backends, params string[] names)
    {
        foreach (string name in names)
        {
            backends.Add(await StartAsync(name));
        }
    }

    /// <summary>Stops and disposes every backend of <paramref name="backends"/>.</summary>
    public static async Task DisposeAllAsync(List<Backend> backends)
    {
        foreach (var backend in backends)
        {
            await backend.DisposeAsync();
        }
    }

    /// <summary>Stops the server (bounded), closing its port.</summary>
    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await app.StopAsync(bound.Token);
            await app.DisposeAsync();
        }
    }

    /// <summary>Starts the server again on the port it had.</summary>
    public Task RestartAsync() => StartOnAsync(Port);

    public async ValueTask DisposeAsync()
    {
        await _disposed.CancelAsync();
        await StopAsync();
        _disposed.Dispose();
    }

    private async Task StartOnAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(5));
        var app = builder.Build();
        app.Run(ServeAsync);
        await app.StartAsync();
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!;
        Port = new Uri(System.Linq.Enumerable.First(addresses.Addresses)).Port;
        _app = app;
    }

    private async Task ServeAsync(HttpContext context)
    {
        LastHost = context.Request.Host.Value;
        Interlocked.Increment(ref _requests);
        _served.Fire();
        if (Hang)
        {
            // Held until the client gives up (its timeout closes the connection) or the test ends.
            using var either = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _disposed.Token);
            try
            {
                await new TaskCompletionSource().Task.WaitAsync(either.Token);
            }
            catch (OperationCanceledException)
            {
            }

            return;
        }

        if (Gate is { } gate)
        {
            await gate.WaitAsync(TimeSpan.FromMinutes(1), context.RequestAborted);
        }

        using var reader = new StreamReader(context.Request.Body);
        string body = await reader.ReadToEndAsync(context.RequestAborted);
        if (body.Length > 0)
        {
            LastBody = body;
        }

        context.Response.StatusCode = Status;
        await context.Response.WriteAsync(body.Length > 0 ? Name + ":" + body : Name, context.RequestAborted);
        if (BodyGate is { } bodyGate)
        {
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await bodyGate.WaitAsync(TimeSpan.FromMinutes(1), context.RequestAborted);
            await context.Response.WriteAsync(":done", context.RequestAborted);
        }
    }
}
