using System;
using System.Linq;
using System.Net;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Checkups.Grpc.Tests;

/// <summary>
/// A real gRPC server on Kestrel, 127.0.0.1, a free port, HTTP/2 cleartext; no code generation: methods over UTF-8 strings
/// that answer with the server's name, or fail with a chosen status.
/// </summary>
public sealed class GrpcBackend : IAsyncDisposable
{
    private static readonly Marshaller<string> Utf8 = Marshallers.Create(static s => Encoding.UTF8.GetBytes(s), static b => Encoding.UTF8.GetString(b));

    /// <summary>Unary: the server's name (or its <see cref="FailWith"/> status, in a trailers-only response).</summary>
    public static readonly Method<string, string> Name = new(MethodType.Unary, "test.Backend", "Name", Utf8, Utf8);

    /// <summary>Server streaming: the server's name once (then its <see cref="FailWith"/> status, in the trailers).</summary>
    public static readonly Method<string, string> Stream = new(MethodType.ServerStreaming, "test.Backend", "Stream", Utf8, Utf8);

    /// <summary>Unary: answers only when the call is cancelled.</summary>
    public static readonly Method<string, string> Hang = new(MethodType.Unary, "test.Backend", "Hang", Utf8, Utf8);

    private readonly WebApplication _app;
    private int _calls;
    private int _stopped;

    private GrpcBackend(string name, WebApplication app, int port)
    {
        ServerName = name;
        _app = app;
        Port = port;
    }

    public string ServerName { get; }

    public int Port { get; }

    public string Key => $"127.0.0.1:{Port}";

    /// <summary>Gets the calls that reached this server.</summary>
    public int Calls => Volatile.Read(ref _calls);

    /// <summary>Gets or sets the status calls end with; <see langword="null"/> for success.</summary>
    public StatusCode? FailWith { get; set; }

    /// <summary>Gets or sets whether calls are reset (HTTP/2 RST_STREAM) before any answer: a transport failure for the client.</summary>
    public bool ResetCalls { get; set; }

    public static async Task<GrpcBackend> StartAsync(string name)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        var app = builder.Build();
        GrpcBackend? backend = null;
        app.MapGrpcService(ServerServiceDefinition.CreateBuilder()
            .AddMethod(Name, (UnaryServerMethod<string, string>)((request, context) => backend!.AnswerAsync(context)))
            .AddMethod(Stream, (ServerStreamingServerMethod<string, string>)((request, writer, context) => backend!.StreamAsync(writer)))
            .AddMethod(Hang, (UnaryServerMethod<string, string>)(async (request, context) =>
            {
                Interlocked.Increment(ref backend!._calls);
                await Task.Delay(Timeout.Infinite, context.CancellationToken);
                return backend.ServerName;
            }))
            .Build());
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        backend = new GrpcBackend(name, app, new Uri(address).Port);
        return backend;
    }

    /// <summary>Stops the server (its port is closed); safe to call twice.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    private Task<string> AnswerAsync(ServerCallContext context)
    {
        Interlocked.Increment(ref _calls);
        if (ResetCalls)
        {
            context.GetHttpContext().Abort();
            return new TaskCompletionSource<string>().Task.WaitAsync(context.CancellationToken);
        }

        return FailWith is { } status
            ? throw new RpcException(new global::Grpc.Core.Status(status, $"{ServerName} fails with {status}"))
            : Task.FromResult(ServerName);
    }

    private async Task StreamAsync(IServerStreamWriter<string> writer)
    {
        Interlocked.Increment(ref _calls);
        await writer.WriteAsync(ServerName);
        if (FailWith is { } status)
        {
            throw new RpcException(new global::Grpc.Core.Status(status, $"{ServerName} fails with {status} after a message"));
        }
    }
}
