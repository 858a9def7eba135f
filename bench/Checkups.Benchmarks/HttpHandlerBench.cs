using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Http;
using Checkups.Registry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Checkups.Benchmarks;

/// <summary>
/// <c>http.handler.*</c>: the same loopback Kestrel backend, the same concurrency, requests through a plain HttpClient and
/// through one with the Checkups handler (a one-server upstream, WRR, defaults), in alternating rounds.
/// </summary>
internal static class HttpHandlerBench
{
    private const int Concurrency = 4;
    private static readonly TimeSpan RoundLength = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Runs the backend alone (<c>serve-http</c>): a Kestrel server on 127.0.0.1 answering "ok", its port written to
    /// stdout; it stops when its stdin closes (the parent ended) or it is killed.
    /// </summary>
    public static async Task<int> ServeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        await using var app = builder.Build();
        app.Run(static context => context.Response.WriteAsync("ok"));
        await app.StartAsync();
        int port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        Console.WriteLine(port.ToString(CultureInfo.InvariantCulture));
        await Console.In.ReadToEndAsync();
        await app.StopAsync();
        return 0;
    }

    /// <summary>
    /// The backend runs in a process of its own, so that the allocations counted are the client's alone and the server's
    /// work is the same for both clients. With <paramref name="reference"/>, the candidate is an empty awaiting handler
    /// instead of Checkups: the floor any handler that sees the response pays on this machine.
    /// </summary>
    public static async Task<(double RpsRatio, double ExtraBytes, double PlainRps, double CheckupsRps)> MeasureAsync(bool reference = false, int rounds = 41)
    {
        using var backend = StartBackend(out int port);
        try
        {
            return await MeasureAgainstAsync(port, reference, rounds);
        }
        finally
        {
            backend.Kill(entireProcessTree: true);
            await backend.WaitForExitAsync();
        }
    }

    private static Process StartBackend(out int port) => BenchProcess.Start("serve-http", serverGc: false, out port);

    private static async Task<(double RpsRatio, double ExtraBytes, double PlainRps, double CheckupsRps)> MeasureAgainstAsync(int port, bool reference, int rounds)
    {
        var options = new CheckupsOptions();
        var upstream = new UpstreamOptions();
        upstream.Servers.Add(new ServerOptions { Host = "127.0.0.1", Port = port });
        options.Upstreams.Add("api", upstream);
        using var registry = new UpstreamRegistry(options);

        using var plain = new HttpClient(new SocketsHttpHandler()) { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        using var balanced = reference
            ? new HttpClient(new AwaitingHandler { InnerHandler = new SocketsHttpHandler() }) { BaseAddress = new Uri($"http://127.0.0.1:{port}/") }
            : new HttpClient(new CheckupsHttpHandler(registry, "api") { InnerHandler = new SocketsHttpHandler() }) { BaseAddress = new Uri("http://api/") };

        // Warm both: connections open, code tiered up.
        await RoundAsync(plain, RoundLength);
        await RoundAsync(balanced, RoundLength);

        // Rounds in pairs, alternating which client goes first so that a drift of the machine falls on both; the ratio
        // is the median of the pairs' ratios.
        var ratios = new double[rounds];
        var plainRps = new double[rounds];
        var balancedRps = new double[rounds];
        var extraBytes = new double[rounds];
        for (int round = 0; round < rounds; round++)
        {
            (double Rps, double Bytes) first, second;
            if (round % 2 == 0)
            {
                first = await RoundAsync(plain, RoundLength);
                second = await RoundAsync(balanced, RoundLength);
                (plainRps[round], balancedRps[round]) = (first.Rps, second.Rps);
                extraBytes[round] = second.Bytes - first.Bytes;
            }
            else
            {
                first = await RoundAsync(balanced, RoundLength);
                second = await RoundAsync(plain, RoundLength);
                (plainRps[round], balancedRps[round]) = (second.Rps, first.Rps);
                extraBytes[round] = first.Bytes - second.Bytes;
            }

            ratios[round] = balancedRps[round] / plainRps[round];
        }

        return (
            Math.Round(Median(ratios), 3),
            Math.Round(Median(extraBytes), 0),
            Math.Round(Median(plainRps), 0),
            Math.Round(Median(balancedRps), 0));
    }

    /// <summary>One round of <paramref name="length"/>: requests per second, and bytes allocated per request by this process (the client).</summary>
    private static async Task<(double Rps, double Bytes)> RoundAsync(HttpClient client, TimeSpan length)
    {
        int completed = 0;
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        long started = Stopwatch.GetTimestamp();
        long until = started + (long)(length.TotalSeconds * Stopwatch.Frequency);
        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(_ => Task.Run(async () =>
        {
            while (Stopwatch.GetTimestamp() < until)
            {
                using var response = await client.GetAsync("/").ConfigureAwait(false);
                response.EnsureSuccessStatusCode();
                Interlocked.Increment(ref completed);
            }
        })));
        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        return (completed / seconds, (double)allocated / completed);
    }

    /// <summary>The least a handler that sees the response can do: await the inner handler and return its response.</summary>
    private sealed class AwaitingHandler : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
