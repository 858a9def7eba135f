using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Http;
using Checkups.Registry;
using Checkups.ServiceDiscovery;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Checkups.Benchmarks;

/// <summary>
/// <c>peers.*</c>: the handlers a .NET team would pick to call three backends, written the way their users write them,
/// in one process over the same three loopback backends (in a process of their own), 32 concurrent callers:
/// <list type="bullet">
/// <item><c>plain</c>: an HttpClient sending to the three addresses in turn, no handler (the ceiling);</item>
/// <item><c>rr</c>: a 15-line round-robin handler through IHttpClientFactory (the floor any balancing handler pays);</item>
/// <item><c>sd</c>: ServiceDiscovery (<c>AddServiceDiscovery()</c> on the client, endpoints in configuration);</item>
/// <item><c>sd_resilience</c>: the same with the standard resilience handler outside it, as Aspire's service defaults write it;</item>
/// <item><c>checkups</c>: Checkups through IHttpClientFactory (<c>AddCheckups("api")</c>), its upstream fed from the same
/// configuration by ServiceDiscovery (<c>AddCheckups().AddServiceDiscovery("http://api")</c>);</item>
/// <item><c>checkups_direct</c>: the Checkups handler over the same registry, built by hand without the factory;</item>
/// <item><c>checkups_resilience</c>: Checkups with the standard resilience handler per server inside it
/// (<c>AddCheckupsWithResilience("api")</c>), the composition of docs/resilience.md;</item>
/// <item><c>sd_paths</c>, <c>checkups_paths</c>: <c>sd</c> and <c>checkups</c> again, each request to another path and
/// query (4,096 in turn), so that no address is the last one built for its server.</item>
/// </list>
/// Steady state runs in rounds, interleaved, the order rotating each round, each compared pair side by side; then each
/// handler in turn carries the same load for 6 s with one backend stopped for 3 s, counting failed requests and the
/// slowest one.
/// </summary>
internal static class PeersBench
{
    private const int Callers = 32;
    private static readonly TimeSpan Round = TimeSpan.FromMilliseconds(400);

    /// <summary>The handlers measured, in the order of the report.</summary>
    public static readonly string[] Names = ["plain", "rr", "sd", "sd_resilience", "checkups", "checkups_direct", "checkups_resilience", "sd_paths", "checkups_paths"];

    /// <summary>The handlers run with a backend stopped.</summary>
    public static readonly string[] FaultNames = ["sd", "sd_resilience", "checkups", "checkups_resilience"];

    public static async Task<PeersFigures> MeasureAsync(int rounds = 20)
    {
        using var backends = BenchBackends.Start();
        var configuration = new Dictionary<string, string?>();
        for (int i = 0; i < backends.Ports.Length; i++)
        {
            configuration[$"services:api:http:{i}"] = $"http://127.0.0.1:{backends.Ports[i].ToString(CultureInfo.InvariantCulture)}";
        }

        var direct = backends.Ports.Select(p => new Uri($"http://127.0.0.1:{p.ToString(CultureInfo.InvariantCulture)}/")).ToArray();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.Services.AddSingleton<IConfiguration>(builder.Configuration);
        builder.Services.AddServiceDiscovery();
        builder.Services.AddCheckups(options => options.HeartbeatEnabled = false)
            .AddServiceDiscovery("http://api")

            // The same service as an upstream of its own, so that its fault run starts with no server marked err by the other's.
            .AddServiceDiscovery("http://api", options => options.Upstream = "api_resilience");
        builder.Services.AddHttpClient("rr").AddHttpMessageHandler(() => new RoundRobinHandler(direct));
        builder.Services.AddHttpClient("sd").AddServiceDiscovery();
        builder.Services.AddHttpClient("sd_resilience").AddStandardResilienceHandler();
        builder.Services.AddHttpClient("sd_resilience").AddServiceDiscovery();
        builder.Services.AddHttpClient("checkups").AddCheckups("api");
        builder.Services.AddHttpClient("checkups_resilience").AddCheckupsWithResilience("api_resilience");
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var factory = host.Services.GetRequiredService<IHttpClientFactory>();
            var logical = new[] { new Uri("http://api/") };
            var paths = Enumerable.Range(0, 4096).Select(i => new Uri($"http://api/items/{i.ToString(CultureInfo.InvariantCulture)}?page={(i % 7).ToString(CultureInfo.InvariantCulture)}")).ToArray();
            var peers = new Dictionary<string, (HttpClient Client, Uri[] Addresses)>
            {
                ["plain"] = (new HttpClient(new SocketsHttpHandler()), direct),
                ["rr"] = (factory.CreateClient("rr"), logical),
                ["sd"] = (factory.CreateClient("sd"), logical),
                ["sd_resilience"] = (factory.CreateClient("sd_resilience"), logical),
                ["checkups"] = (factory.CreateClient("checkups"), logical),
                ["sd_paths"] = (factory.CreateClient("sd"), paths),
                ["checkups_paths"] = (factory.CreateClient("checkups"), paths),
                ["checkups_resilience"] = (factory.CreateClient("checkups_resilience"), [new Uri("http://api_resilience/")]),
                ["checkups_direct"] = (new HttpClient(new CheckupsHttpHandler(host.Services.GetRequiredService<UpstreamRegistry>(), "api") { InnerHandler = new SocketsHttpHandler() }), logical),
            };

            // Warm every one: connections open, code tiered up.
            foreach (var name in Names)
            {
                await RunAsync(peers[name].Client, peers[name].Addresses, Round);
            }

            var perRound = Names.ToDictionary(n => n, _ => new double[rounds]);
            var requests = Names.ToDictionary(n => n, _ => 0L);
            var bytes = Names.ToDictionary(n => n, _ => 0L);
            for (int round = 0; round < rounds; round++)
            {
                foreach (string name in Order(round))
                {
                    var result = await RunAsync(peers[name].Client, peers[name].Addresses, Round);
                    perRound[name][round] = result.Requests / Round.TotalSeconds;
                    requests[name] += result.Requests;
                    bytes[name] += result.Bytes;
                }
            }

            var fault = new Dictionary<string, (long Requests, long Failed, double WorstMs)>();
            foreach (var name in FaultNames)
            {
                fault[name] = await FaultAsync(peers[name].Client, peers[name].Addresses, backends);
            }

            foreach (var (client, _) in peers.Values)
            {
                client.Dispose();
            }

            return new PeersFigures(
                perRound,
                Names.ToDictionary(n => n, n => Math.Round((double)bytes[n] / requests[n])),
                fault);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    /// <summary>
    /// The handlers in the order of round <paramref name="round"/>: the groups rotate, and each handler compared with a
    /// peer runs next to it (Checkups after ServiceDiscovery on even rounds, before it on odd ones), so that the ratio of a
    /// round compares two runs half a second apart.
    /// </summary>
    private static IEnumerable<string> Order(int round)
    {
        string[][] groups = [["plain"], ["rr"], ["sd", "checkups"], ["sd_resilience", "checkups_resilience"], ["checkups_direct"], ["sd_paths", "checkups_paths"]];
        for (int i = 0; i < groups.Length; i++)
        {
            var group = groups[(round + i) % groups.Length];
            for (int j = 0; j < group.Length; j++)
            {
                yield return group[round % 2 == 0 ? j : group.Length - 1 - j];
            }
        }
    }

    /// <summary>32 callers for <paramref name="length"/>: requests answered 200, bytes this process allocated, failures, the slowest request.</summary>
    private static async Task<(long Requests, long Bytes, long Failed, double WorstMs)> RunAsync(HttpClient client, Uri[] addresses, TimeSpan length)
    {
        long requests = 0, failed = 0, worst = 0;
        long before = GC.GetTotalAllocatedBytes(precise: true);
        long until = Stopwatch.GetTimestamp() + (long)(length.TotalSeconds * Stopwatch.Frequency);
        await Task.WhenAll(Enumerable.Range(0, Callers).Select(caller => Task.Run(async () =>
        {
            int next = caller;
            long slowest = 0;
            while (Stopwatch.GetTimestamp() < until)
            {
                long started = Stopwatch.GetTimestamp();
                bool ok = false;
                try
                {
                    using var response = await client.GetAsync(addresses[next++ % addresses.Length]);
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        await response.Content.ReadAsByteArrayAsync();
                        ok = true;
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or Polly.CircuitBreaker.BrokenCircuitException or Polly.Timeout.TimeoutRejectedException)
                {
                }

                slowest = Math.Max(slowest, Stopwatch.GetTimestamp() - started);
                Interlocked.Increment(ref ok ? ref requests : ref failed);
            }

            InterlockedMax(ref worst, slowest);
        })));
        return (requests, GC.GetTotalAllocatedBytes(precise: true) - before, failed, Math.Round(worst * 1000.0 / Stopwatch.Frequency, 1));
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long current = Volatile.Read(ref target);
        while (value > current)
        {
            long seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    /// <summary>The same load for 6 s, backend 0 stopped from 1.5 s to 4.5 s.</summary>
    private static async Task<(long Requests, long Failed, double WorstMs)> FaultAsync(HttpClient client, Uri[] addresses, BenchBackends backends)
    {
        var load = RunAsync(client, addresses, TimeSpan.FromSeconds(6));
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        await backends.StopAsync(0);
        await Task.Delay(TimeSpan.FromSeconds(3));
        await backends.StartAsync(0);
        var (requests, _, failed, worstMs) = await load;
        return (requests, failed, worstMs);
    }

    /// <summary>The least a balancing handler does: the next address in turn, the request's path kept. Fifteen lines.</summary>
    private sealed class RoundRobinHandler(Uri[] servers) : DelegatingHandler
    {
        private int _next = -1;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var server = servers[(int)((uint)Interlocked.Increment(ref _next) % (uint)servers.Length)];
            request.RequestUri = new Uri(server, request.RequestUri!.PathAndQuery);
            return base.SendAsync(request, cancellationToken);
        }
    }
}

/// <summary>
/// The peer comparison's figures: each handler's requests per second in each round, its bytes per request, and its fault
/// run. A handler's rate is the median of its rounds; a ratio of two handlers is the median of their ratios round by
/// round (measured a second apart at most), so that a drift of the machine falls on both.
/// </summary>
internal sealed record PeersFigures(
    IReadOnlyDictionary<string, double[]> PerRound,
    IReadOnlyDictionary<string, double> Bytes,
    IReadOnlyDictionary<string, (long Requests, long Failed, double WorstMs)> Fault)
{
    private double Rps(string name) => Math.Round(Median(PerRound[name]));

    private double Ratio(string name, string over) =>
        Math.Round(Median(PerRound[name].Zip(PerRound[over], static (a, b) => a / b).ToArray()), 3);

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>The report's keys.</summary>
    public IEnumerable<Metric> Metrics()
    {
        yield return new("peers.rps.checkups_over_sd", Ratio("checkups", "sd"), "ratio");
        yield return new("peers.bytes.checkups_minus_sd", Bytes["checkups"] - Bytes["sd"], "bytes");
        yield return new("peers.fault.failed.checkups", Fault["checkups"].Failed, "requests");
        yield return new("peers.fault.failed.sd", Fault["sd"].Failed, "requests");
        yield return new("peers.fault.failed.sd_resilience", Fault["sd_resilience"].Failed, "requests");
        yield return new("peers.fault.failed.checkups_resilience", Fault["checkups_resilience"].Failed, "requests");
        foreach (var name in PeersBench.FaultNames)
        {
            yield return new($"peers.fault.worst.ms.{name}", Fault[name].WorstMs, "ms");
            yield return new($"peers.fault.rps.{name}", Math.Round(Fault[name].Requests / 6.0), "requests/s");
        }

        yield return new("peers.rps.checkups_direct_over_sd", Ratio("checkups_direct", "sd"), "ratio");
        yield return new("peers.rps.checkups_over_sd.paths", Ratio("checkups_paths", "sd_paths"), "ratio");
        yield return new("peers.bytes.checkups_minus_sd.paths", Bytes["checkups_paths"] - Bytes["sd_paths"], "bytes");
        yield return new("peers.rps.checkups_resilience_over_sd_resilience", Ratio("checkups_resilience", "sd_resilience"), "ratio");
        yield return new("peers.bytes.checkups_resilience_minus_sd_resilience", Bytes["checkups_resilience"] - Bytes["sd_resilience"], "bytes");
        foreach (var name in PeersBench.Names)
        {
            if (name != "plain")
            {
                yield return new($"peers.rps.{name}_over_plain", Ratio(name, "plain"), "ratio");
            }
        }

        foreach (var name in PeersBench.Names)
        {
            yield return new($"peers.rps.{name}", Rps(name), "requests/s");
            yield return new($"peers.bytes.{name}", Bytes[name], "bytes");
        }
    }
}
