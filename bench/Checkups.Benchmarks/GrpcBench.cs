using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Grpc;
using Checkups.Registry;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Checkups.Benchmarks;

/// <summary>
/// <c>grpc</c>: unary gRPC calls to one loopback Kestrel server (h2c, in a process of its own) through three channels in
/// alternating rounds: Grpc.Net.Client's own <c>round_robin</c> over a static address, the <c>checkups</c> policy as
/// <see cref="CheckupsGrpc.CreateChannel"/> builds it (with the status handler), and the <c>checkups</c> policy without the
/// status handler. Prints calls per second and the client's bytes allocated per call of each, and the differences.
/// </summary>
internal static class GrpcBench
{
    private const int Concurrency = 4;
    private static readonly TimeSpan RoundLength = TimeSpan.FromMilliseconds(300);
    private static readonly Marshaller<string> Utf8 = Marshallers.Create(static s => Encoding.UTF8.GetBytes(s), static b => Encoding.UTF8.GetString(b));
    private static readonly Method<string, string> Echo = new(MethodType.Unary, "bench.Echo", "Echo", Utf8, Utf8);

    /// <summary>Runs the gRPC server alone (<c>serve-grpc</c>); its port on stdout; it stops when stdin closes.</summary>
    public static async Task<int> ServeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        await using var app = builder.Build();
        app.MapGrpcService(ServerServiceDefinition.CreateBuilder()
            .AddMethod(Echo, (UnaryServerMethod<string, string>)(static (request, context) => Task.FromResult("ok")))
            .Build());
        await app.StartAsync();
        int port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        Console.WriteLine(port.ToString(CultureInfo.InvariantCulture));
        await Console.In.ReadToEndAsync();
        await app.StopAsync();
        return 0;
    }

    /// <summary>The <c>grpc</c> command: measures and prints.</summary>
    public static async Task<int> RunAsync(int rounds = 31)
    {
        using var backend = BenchProcess.Start("serve-grpc", serverGc: false, out int port);
        try
        {
            var services = new ServiceCollection();
            services.AddSingleton<ResolverFactory>(new StaticResolverFactory(_ => new[] { new BalancerAddress("127.0.0.1", port) }));
            services.AddCheckups(options =>
            {
                var upstream = new UpstreamOptions();
                upstream.Servers.Add(new ServerOptions { Host = "127.0.0.1", Port = port });
                options.Upstreams.Add("api", upstream);
            }).AddGrpcBalancing();
            await using var provider = services.BuildServiceProvider();
            _ = provider.GetRequiredService<UpstreamRegistry>();

            using var roundRobin = GrpcChannel.ForAddress("static:///api", new GrpcChannelOptions
            {
                ServiceProvider = provider,
                Credentials = ChannelCredentials.Insecure,
                ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new RoundRobinConfig() } },
            });
            using var checkups = CheckupsGrpc.CreateChannel(provider, "api");
            using var checkupsNoStatus = GrpcChannel.ForAddress(CheckupsGrpc.AddressOf("api"), new GrpcChannelOptions
            {
                ServiceProvider = provider,
                Credentials = ChannelCredentials.Insecure,
                ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new CheckupsLoadBalancingConfig() } },
            });
            var channels = new[] { roundRobin.CreateCallInvoker(), checkups.CreateCallInvoker(), checkupsNoStatus.CreateCallInvoker() };
            foreach (var invoker in channels)
            {
                await RoundAsync(invoker, RoundLength);
            }

            var rps = new double[channels.Length][];
            var bytes = new double[channels.Length][];
            for (int c = 0; c < channels.Length; c++)
            {
                (rps[c], bytes[c]) = (new double[rounds], new double[rounds]);
            }

            // The channels take turns, the one going first changing each round, so a drift of the machine falls on all.
            for (int round = 0; round < rounds; round++)
            {
                for (int turn = 0; turn < channels.Length; turn++)
                {
                    int c = (round + turn) % channels.Length;
                    (rps[c][round], bytes[c][round]) = await RoundAsync(channels[c], RoundLength);
                }
            }

            string[] names = ["round_robin (Grpc.Net.Client)", "checkups, CreateChannel (status handler)", "checkups, no status handler"];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"unary calls, {Concurrency} callers, one loopback server in its own process, {rounds} rounds of {RoundLength.TotalMilliseconds} ms; medians"));
            for (int c = 0; c < channels.Length; c++)
            {
                double callsPerSecond = Median(rps[c]);
                double perCall = Median(bytes[c]);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{names[c],-42} {callsPerSecond,9:F0} calls/s  {1e6 / callsPerSecond,7:F1} µs/call  {perCall,7:F0} B/call  vs round_robin: {Median(Ratios(rps[c], rps[0])),5:F3}x calls/s, {Median(Differences(bytes[c], bytes[0])),+6:F0} B/call"));
            }

            return 0;
        }
        finally
        {
            backend.Kill(entireProcessTree: true);
            await backend.WaitForExitAsync();
        }
    }

    /// <summary>One round: calls per second, and bytes allocated per call by this process (the client).</summary>
    private static async Task<(double Rps, double Bytes)> RoundAsync(CallInvoker invoker, TimeSpan length)
    {
        int completed = 0;
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        long started = Stopwatch.GetTimestamp();
        long until = started + (long)(length.TotalSeconds * Stopwatch.Frequency);
        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(_ => Task.Run(async () =>
        {
            while (Stopwatch.GetTimestamp() < until)
            {
                using var call = invoker.AsyncUnaryCall(Echo, null, default, "hi");
                await call.ResponseAsync.ConfigureAwait(false);
                Interlocked.Increment(ref completed);
            }
        })));
        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        return (completed / seconds, (double)allocated / completed);
    }

    private static double[] Ratios(double[] values, double[] reference) => values.Select((v, i) => v / reference[i]).ToArray();

    private static double[] Differences(double[] values, double[] reference) => values.Select((v, i) => v - reference[i]).ToArray();

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
