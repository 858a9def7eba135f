using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Registry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.LoadBalancing;

namespace Checkups.Benchmarks;

/// <summary>
/// YARP with Checkups beside YARP with its own RoundRobin: two proxies in this process over the same three backends (in a
/// process of their own), loaded by 32 concurrent callers in interleaved rounds; then each with one backend stopped for
/// 3 s under the same load, counting failed requests.
/// </summary>
internal static class YarpBench
{
    private const int Callers = 32;
    private static readonly TimeSpan Round = TimeSpan.FromSeconds(1);

    /// <summary>Runs three backends (<c>serve-backends</c>): their ports on stdout; <c>stop i</c> / <c>start i</c> on stdin stop and start one.</summary>
    public static async Task<int> ServeBackendsAsync()
    {
        var apps = new WebApplication?[3];
        var ports = new int[3];
        async Task StartAsync(int i)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, ports[i]));
            var app = builder.Build();
            app.Run(static context => context.Response.WriteAsync("ok"));
            await app.StartAsync();
            ports[i] = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
            apps[i] = app;
        }

        for (int i = 0; i < apps.Length; i++)
        {
            await StartAsync(i);
        }

        Console.WriteLine(string.Join(',', ports));
        while (await Console.In.ReadLineAsync() is { } line)
        {
            var parts = line.Split(' ');
            int which = int.Parse(parts[1], CultureInfo.InvariantCulture);
            if (parts[0] == "stop" && apps[which] is { } running)
            {
                apps[which] = null;
                await running.StopAsync();
                await running.DisposeAsync();
            }
            else if (parts[0] == "start" && apps[which] is null)
            {
                await StartAsync(which);
            }

            Console.WriteLine("done");
        }

        foreach (var app in apps)
        {
            if (app is not null)
            {
                await app.StopAsync();
            }
        }

        return 0;
    }

    public static async Task<YarpFigures> MeasureAsync(int rounds = 10)
    {
        using var backends = BenchBackends.Start();
        int[] ports = backends.Ports;
        await using var checkups = await ProxyAsync(ports, withCheckups: true);
        await using var yarp = await ProxyAsync(ports, withCheckups: false);

        // Steady state: interleaved rounds, YARP first then Checkups, the same callers and backends.
        await RoundAsync(yarp.Client, Round);
        await RoundAsync(checkups.Client, Round);
        double yarpRequests = 0, checkupsRequests = 0, yarpBytes = 0, checkupsBytes = 0;
        for (int round = 0; round < rounds; round++)
        {
            var y = await RoundAsync(yarp.Client, Round);
            var c = await RoundAsync(checkups.Client, Round);
            yarpRequests += y.Requests;
            yarpBytes += y.Bytes;
            checkupsRequests += c.Requests;
            checkupsBytes += c.Bytes;
        }

        // Faults: the same load, one backend stopped for 3 s in the middle of a 6 s run.
        var yarpFault = await FaultAsync(yarp.Client, backends);
        var checkupsFault = await FaultAsync(checkups.Client, backends);
        return new YarpFigures(
            Math.Round(checkupsRequests / yarpRequests, 3),
            Math.Round((checkupsBytes / checkupsRequests) - (yarpBytes / yarpRequests), 0),
            checkupsFault.Failed,
            yarpFault.Failed,
            Math.Round(checkupsRequests / (rounds * Round.TotalSeconds)),
            Math.Round(yarpRequests / (rounds * Round.TotalSeconds)));
    }

    private static async Task<(long Requests, long Bytes, long Failed)> RoundAsync(HttpClient client, TimeSpan length)
    {
        long requests = 0, failed = 0;
        long before = GC.GetTotalAllocatedBytes(precise: true);
        long until = Stopwatch.GetTimestamp() + (long)(length.TotalSeconds * Stopwatch.Frequency);
        await Task.WhenAll(Enumerable.Range(0, Callers).Select(_ => Task.Run(async () =>
        {
            while (Stopwatch.GetTimestamp() < until)
            {
                try
                {
                    using var response = await client.GetAsync("/");
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        await response.Content.ReadAsByteArrayAsync();
                        Interlocked.Increment(ref requests);
                        continue;
                    }
                }
                catch (HttpRequestException)
                {
                }

                Interlocked.Increment(ref failed);
            }
        })));
        return (requests, GC.GetTotalAllocatedBytes(precise: true) - before, failed);
    }

    private static async Task<(long Requests, long Failed)> FaultAsync(HttpClient client, BenchBackends backends)
    {
        var load = RoundAsync(client, TimeSpan.FromSeconds(6));
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        await backends.StopAsync(0);
        await Task.Delay(TimeSpan.FromSeconds(3));
        await backends.StartAsync(0);
        var (requests, _, failed) = await load;
        return (requests, failed);
    }

    private static async Task<Proxy> ProxyAsync(int[] ports, bool withCheckups)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var route = new RouteConfig { RouteId = "all", ClusterId = "api", Match = new RouteMatch { Path = "{**rest}" } };
        ClusterConfig cluster;
        if (withCheckups)
        {
            builder.Services.AddCheckups(options =>
            {
                options.HeartbeatEnabled = false;
                var upstream = new UpstreamOptions { Try = 3 };
                foreach (int port in ports)
                {
                    upstream.Servers.Add(new ServerOptions { Host = "127.0.0.1", Port = port, MaxFails = 1, FailTimeout = TimeSpan.FromSeconds(1) });
                }

                options.Upstreams["api"] = upstream;
            });
            cluster = new ClusterConfig { ClusterId = "api" };
            builder.Services.AddReverseProxy().LoadFromMemory(new[] { route }, new[] { cluster }).AddCheckups();
        }
        else
        {
            cluster = new ClusterConfig
            {
                ClusterId = "api",
                LoadBalancingPolicy = LoadBalancingPolicies.RoundRobin,
                Destinations = ports.ToDictionary(p => "127.0.0.1:" + p.ToString(CultureInfo.InvariantCulture), p => new DestinationConfig { Address = $"http://127.0.0.1:{p}/" }),
            };
            builder.Services.AddReverseProxy().LoadFromMemory(new[] { route }, new[] { cluster });
        }

        var app = builder.Build();
        if (withCheckups)
        {
            app.MapReverseProxy(proxy => proxy.UseCheckups());
        }
        else
        {
            app.MapReverseProxy();
        }

        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return new Proxy(app, new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) });
    }

    private sealed class Proxy(WebApplication app, HttpClient client) : IAsyncDisposable
    {
        public HttpClient Client { get; } = client;

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}

/// <summary>The YARP comparison's figures.</summary>
internal sealed record YarpFigures(double RpsRatio, double ExtraBytes, long FailedCheckups, long FailedYarp, double CheckupsRps, double YarpRps);
