using System;
using System.Collections.Generic;
using System.Linq;
using Checkups.Balancing;
using Checkups.Configuration;
using Checkups.Model;
using Checkups.Registry;
using Microsoft.Extensions.Time.Testing;

namespace Checkups.Benchmarks;

/// <summary>Deterministic simulations in virtual time: every draw is seeded, every clock is virtual.</summary>
internal static class Simulations
{
    /// <summary>
    /// Linkerd's published setup: 11 servers answering in ~167 ms (±5 % jitter), one of them turned to 2 s for 30 s of a
    /// 60 s run, requests at a fixed 1,000 per second. Returns the p99 latency with the slow period over the p99 of the
    /// same run with every server fast.
    /// </summary>
    public static double P99Ratio(string mode) => P99(mode, withSlowServer: true) / P99(mode, withSlowServer: false);

    /// <summary>Share of picks that stay in the caller's zone (3 zones of 10 servers) when <paramref name="localHealthyPercent"/> % of the local ones are up.</summary>
    public static double LocalShare(int localHealthyPercent)
    {
        int localDown = 10 - (localHealthyPercent / 10);
        var upstream = new UpstreamOptions { Mode = BalancingModes.LocalFirst };
        for (int zone = 1; zone <= 3; zone++)
        {
            for (int i = 0; i < 10; i++)
            {
                upstream.Servers.Add(new ServerOptions
                {
                    Host = "127.0.0.1",
                    Port = 10000 + (zone * 100) + i,
                    Zone = "z" + zone,
                    Down = zone == 1 && i < localDown,
                });
            }
        }

        var options = new CheckupsOptions { LocalZone = "z1", PreferLocalAddresses = false };
        options.Upstreams.Add("sim", upstream);
        using var registry = new UpstreamRegistry(options, new FakeTimeProvider(), null, RandomSource.Seeded(5));
        const int Picks = 200_000;
        int local = 0;
        for (int i = 0; i < Picks; i++)
        {
            local += registry.SelectPeer("sim").Zone == "z1" ? 1 : 0;
        }

        return Math.Round(local / (double)Picks, 4);
    }

    /// <summary>The p99 latency (ms) of each second of the slow-server run, for the chart of p99 over time.</summary>
    public static double[] P99PerSecond(string mode)
    {
        var calls = Run(mode, withSlowServer: true);
        return calls
            .GroupBy(c => c.Arrival / TimeSpan.TicksPerSecond)
            .OrderBy(g => g.Key)
            .Select(g =>
            {
                var sorted = g.Select(c => c.Latency).Order().ToList();
                return Math.Round(sorted[(int)(sorted.Count * 0.99)] / (double)TimeSpan.TicksPerMillisecond, 1);
            })
            .ToArray();
    }

    private static double P99(string mode, bool withSlowServer)
    {
        var latencies = Run(mode, withSlowServer).Select(c => c.Latency).ToList();
        latencies.Sort();
        return latencies[(int)(latencies.Count * 0.99)];
    }

    /// <summary>Every call of the run: when it arrived and how long it took (ticks).</summary>
    private static List<(long Arrival, long Latency)> Run(string mode, bool withSlowServer)
    {
        const int Servers = 11;
        const int RatePerSecond = 1_000;
        const int Seconds = 60;
        var slowFrom = TimeSpan.FromSeconds(15).Ticks;
        var slowUntil = TimeSpan.FromSeconds(45).Ticks;

        var upstream = new UpstreamOptions { Mode = mode };
        for (int i = 0; i < Servers; i++)
        {
            upstream.Servers.Add(new ServerOptions { Host = "127.0.0.1", Port = 10000 + i });
        }

        var options = new CheckupsOptions();
        options.Upstreams.Add("sim", upstream);
        // The run's time is ticks since the clock's start; SetUtcNow moves it (Advance would also sleep a millisecond per call).
        var clock = new FakeTimeProvider();
        var start = clock.GetUtcNow();
        using var registry = new UpstreamRegistry(options, clock, null, RandomSource.Seeded(3));
        var selector = registry.Get("sim").Clusters[0].Selector;
        var jitter = new Random(17);
        var completions = new PriorityQueue<(Server Server, long Started), long>();
        var latencies = new List<(long Arrival, long Latency)>(RatePerSecond * Seconds);
        long interval = TimeSpan.TicksPerSecond / RatePerSecond;

        for (long arrival = interval; arrival <= TimeSpan.FromSeconds(Seconds).Ticks; arrival += interval)
        {
            while (completions.TryPeek(out var done, out long at) && at <= arrival)
            {
                completions.Dequeue();
                clock.SetUtcNow(start + TimeSpan.FromTicks(at));
                Complete(selector, done.Server, done.Started, at);
            }

            clock.SetUtcNow(start + TimeSpan.FromTicks(arrival));
            var context = default(SelectionContext);
            var peer = selector.Pick(ref context)!;
            if (selector.ObservesCalls)
            {
                selector.OnStarted(peer);
            }

            bool slow = withSlowServer && peer.Port == 10000 && arrival >= slowFrom && arrival < slowUntil;
            long latency = slow
                ? TimeSpan.FromSeconds(2).Ticks
                : (long)(TimeSpan.FromMilliseconds(167).Ticks * (0.95 + (0.1 * jitter.NextDouble())));
            latencies.Add((arrival, latency));
            completions.Enqueue((peer, arrival), arrival + latency);
        }

        return latencies;
    }

    private static void Complete(ServerSelector selector, Server peer, long started, long at)
    {
        if (selector.ObservesCalls)
        {
            selector.OnCompleted(peer, new CallOutcome(false, at - started, started: true));
        }
    }
}
