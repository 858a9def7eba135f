using System;
using System.Collections.Generic;
using System.Linq;
using Checkups.Balancing;
using Checkups.Execution;
using Checkups.Configuration;
using Checkups.Model;
using Checkups.Registry;
using Microsoft.Extensions.Time.Testing;

namespace Checkups.Benchmarks;

/// <summary>
/// Deterministic simulations in virtual time: every draw is seeded, every clock is virtual. Calls go through the public
/// path a caller uses, leases (<c>AcquireLease</c> … <c>Complete</c>), so calls in flight, latency and passive health
/// are counted exactly as for real traffic.
/// </summary>
internal static class Simulations
{
    /// <summary>The servers' behaviour in a run.</summary>
    public enum Scenario
    {
        /// <summary>Every server answers in ~167 ms (±5 % jitter): the baseline.</summary>
        AllFast,

        /// <summary>
        /// Linkerd's published setup: one of the 11 servers turned to 2 s for 30 s of the 60 s run.
        /// </summary>
        SlowPeriod,

        /// <summary>
        /// A harsher fleet: one server ten times slower than the others for the whole run, and another whose calls stall
        /// for 5 s once in a thousand (its p99.9).
        /// </summary>
        SlowAndStalling,
    }

    /// <summary>
    /// 11 servers, requests at a fixed 1,000 per second for 60 s: the p99 latency in <paramref name="scenario"/> over the
    /// p99 of the same run with every server fast.
    /// </summary>
    public static double P99Ratio(string mode, Scenario scenario = Scenario.SlowAndStalling) => P99(mode, scenario) / P99(mode, Scenario.AllFast);

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
        var calls = Run(mode, Scenario.SlowPeriod);
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

    private static double P99(string mode, Scenario scenario)
    {
        var latencies = Run(mode, scenario).Select(c => c.Latency).ToList();
        latencies.Sort();
        return latencies[(int)(latencies.Count * 0.99)];
    }

    /// <summary>Every call of the run: when it arrived and how long it took (ticks).</summary>
    private static List<(long Arrival, long Latency)> Run(string mode, Scenario scenario)
    {
        const int Servers = 11;
        const int RatePerSecond = 1_000;
        const int Seconds = 60;
        var slowFrom = TimeSpan.FromSeconds(15).Ticks;
        var slowUntil = TimeSpan.FromSeconds(45).Ticks;
        var fast = TimeSpan.FromMilliseconds(167).Ticks;

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
        var jitter = new Random(17);
        var stalls = new Random(23);
        var completions = new PriorityQueue<(UpstreamLease Lease, long Latency), long>();
        var latencies = new List<(long Arrival, long Latency)>(RatePerSecond * Seconds);
        long interval = TimeSpan.TicksPerSecond / RatePerSecond;

        for (long arrival = interval; arrival <= TimeSpan.FromSeconds(Seconds).Ticks; arrival += interval)
        {
            while (completions.TryPeek(out var done, out long at) && at <= arrival)
            {
                completions.Dequeue();
                clock.SetUtcNow(start + TimeSpan.FromTicks(at));
                done.Lease.Complete(LeaseOutcome.Success, TimeSpan.FromTicks(done.Latency));
            }

            clock.SetUtcNow(start + TimeSpan.FromTicks(arrival));
            var lease = registry.AcquireLease("sim");
            int port = lease.Server.Port;
            long latency = (long)(fast * (0.95 + (0.1 * jitter.NextDouble())));
            if (scenario == Scenario.SlowPeriod && port == 10000 && arrival >= slowFrom && arrival < slowUntil)
            {
                latency = TimeSpan.FromSeconds(2).Ticks;
            }
            else if (scenario == Scenario.SlowAndStalling && port == 10000)
            {
                latency *= 10;
            }
            else if (scenario == Scenario.SlowAndStalling && port == 10001 && stalls.Next(1000) == 0)
            {
                latency = TimeSpan.FromSeconds(5).Ticks;
            }

            latencies.Add((arrival, latency));
            completions.Enqueue((lease, latency), arrival + latency);
        }

        while (completions.TryDequeue(out var done, out _))
        {
            done.Lease.Complete(LeaseOutcome.Success, TimeSpan.FromTicks(done.Latency));
        }

        return latencies;
    }
}
