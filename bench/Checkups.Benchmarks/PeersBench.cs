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
/// <item><c>checkups_direct</c>: the Checkups handler over the same registry, built by hand without the factory.</item>
/// </list>
/// Steady state runs in rounds, interleaved, the order rotating each round; then each handler in turn carries the same load
/// for 6 s with one backend stopped for 3 s, counting failed requests and the slowest one.
/// </summary>
internal static class PeersBench
{
    private const int Callers = 32;
    private static readonly TimeSpan Round = TimeSpan.FromMilliseconds(500);

    /// <summary>The handlers measured, in the order of the report.</summary>
    public static readonly string[] Names = ["plain", "rr", "sd", "sd_resilience", "checkups", "checkups_direct"];

    public static async Task<PeersFigures> MeasureAsync(int rounds = 12)
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
        builder.Services.AddCheckups(options => options.HeartbeatEnabled = false).AddServiceDiscovery("http://api");
        builder.Services.AddHttpClient("rr").AddHttpMessageHandler(() => new RoundRobinHandler(direct));
        builder.Services.AddHttpClient("sd").AddServiceDiscovery();
        builder.Services.AddHttpClient("sd_resilience").AddStandardResilienceHandler();
        builder.Services.AddHttpClient("sd_resilience").AddServiceDiscovery();
        builder.Services.AddHttpClient("checkups").AddCheckups("api");
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var factory = host.Services.GetRequiredService<IHttpClientFactory>();
            var logical = new[] { new Uri("http://api/") };
            var peers = new Dictionary<string, (HttpClient Client, Uri[] Addresses)>
            {
                ["plain"] = (new HttpClient(new SocketsHttpHandler()), direct),
                ["rr"] = (factory.CreateClient("rr"), logical),
                ["sd"] = (factory.CreateClient("sd"), logical),
                ["sd_resilience"] = (factory.CreateClient("sd_resilience"), logical),
                ["checkups"] = (factory.CreateClient("checkups"), logical),
                ["checkups_direct"] = (new HttpClient(new CheckupsHttpHandler(host.Services.GetRequiredService<UpstreamRegistry>(), "api") { InnerHandler = new SocketsHttpHandler() }), logical),
            };

            // Warm every one: connections open, code tiered up.
            foreach (var name in Names)
            {
                await RunAsync(peers[name].Client, peers[name].Addresses, Round);
            }

            var requests = Names.ToDictionary(n => n, _ => 0L);
            var bytes = Names.ToDictionary(n => n, _ => 0L);
            for (int round = 0; round < rounds; round++)
            {
                for (int i = 0; i < Names.Length; i++)
                {
                    string name = Names[(round + i) % Names.Length];
                    var result = await RunAsync(peers[name].Client, peers[name].Addresses, Round);
                    requests[name] += result.Requests;
                    bytes[name] += result.Bytes;
                }
            }

            var fault = new Dictionary<string, (long Requests, long Failed, double WorstMs)>();
            foreach (var name in new[] { "sd", "sd_resilience", "checkups" })
            {
                fault[name] = await FaultAsync(peers[name].Client, peers[name].Addresses, backends);
            }

            foreach (var (client, _) in peers.Values)
            {
                client.Dispose();
            }

            double seconds = rounds * Round.TotalSeconds;
            return new PeersFigures(
                Names.ToDictionary(n => n, n => Math.Round(requests[n] / seconds)),
                Names.ToDictionary(n => n, n => Math.Round((double)bytes[n] / requests[n])),
                fault);
        }
        finally
        {
            await host.StopAsync();
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

/// <summary>The peer comparison's figures: requests per second and bytes per request of each handler, and its fault run.</summary>
internal sealed record PeersFigures(
    IReadOnlyDictionary<string, double> Rps,
    IReadOnlyDictionary<string, double> Bytes,
    IReadOnlyDictionary<string, (long Requests, long Failed, double WorstMs)> Fault)
{
    /// <summary>The report's keys.</summary>
    public IEnumerable<Metric> Metrics()
    {
        yield return new("peers.rps.checkups_over_sd", Math.Round(Rps["checkups"] / Rps["sd"], 3), "ratio");
        yield return new("peers.bytes.checkups_minus_sd", Bytes["checkups"] - Bytes["sd"], "bytes");
        yield return new("peers.fault.failed.checkups", Fault["checkups"].Failed, "requests");
        yield return new("peers.fault.failed.sd", Fault["sd"].Failed, "requests");
        yield return new("peers.fault.failed.sd_resilience", Fault["sd_resilience"].Failed, "requests");
        foreach (var name in new[] { "checkups", "sd", "sd_resilience" })
        {
            yield return new($"peers.fault.worst.ms.{name}", Fault[name].WorstMs, "ms");
            yield return new($"peers.fault.rps.{name}", Math.Round(Fault[name].Requests / 6.0), "requests/s");
        }

        yield return new("peers.rps.checkups_direct_over_sd", Math.Round(Rps["checkups_direct"] / Rps["sd"], 3), "ratio");
        foreach (var name in PeersBench.Names)
        {
            if (name != "plain")
            {
                yield return new($"peers.rps.{name}_over_plain", Math.Round(Rps[name] / Rps["plain"], 3), "ratio");
            }
        }

        foreach (var name in PeersBench.Names)
        {
            yield return new($"peers.rps.{name}", Rps[name], "requests/s");
            yield return new($"peers.bytes.{name}", Bytes[name], "bytes");
        }
    }
}
