using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Linq;
using Checkups.Configuration;

namespace Checkups.Benchmarks;

/// <summary>
/// The quick report (<c>report --out FILE</c>): a few seconds per figure instead of BenchmarkDotNet's minutes, written
/// as a JSON array of <c>{"name","value","unit"}</c>. Each timing is the best of several rounds after a warm-up, and the
/// allocation figure is measured on the same thread over the same operations.
/// </summary>
internal static class QuickReport
{
    public static int Run(string[] args)
    {
        string? output = null;
        string? svg = null;
        for (int i = 1; i < args.Length; i++)
        {
            if (args[i] == "--out" && i + 1 < args.Length)
            {
                output = args[++i];
            }
            else if (args[i] == "--svg" && i + 1 < args.Length)
            {
                svg = args[++i];
            }
        }

        // --svg DIR: only the charts of docs/algorithms.md (load share per hash algorithm, p99 over time in the slow-server run).
        if (svg is not null)
        {
            SvgCharts.Write(svg);
            return 0;
        }

        if (output is null)
        {
            Console.Error.WriteLine("usage: report --out FILE [--quick | --hostile | --http | --consul | --admin | --simulations | --yarp | --peers] | report --svg DIR");
            return 2;
        }

        // --quick: the per-call figures only (picks, calls, leases, hash lookups, configuration), without the hash placement
        // over ten million keys and the simulations.
        bool quick = Array.IndexOf(args, "--quick") > 0;

        // --http: only the HttpClient comparison (about half a minute).
        if (Array.IndexOf(args, "--http") > 0)
        {
            var (ratio, extra, plainRps, balancedRps) = HttpHandlerBench.MeasureAsync().GetAwaiter().GetResult();
            var (floor, _, _, _) = HttpHandlerBench.MeasureAsync(reference: true).GetAwaiter().GetResult();
            Console.WriteLine($"http.handler.rps.ratio {ratio} (plain {plainRps}/s, Checkups {balancedRps}/s), http.handler.extra.bytes {extra}, http.awaiting.rps.ratio {floor}");
            return 0;
        }

        // --consul: only the propagation through a real Consul agent (CHECKUPS_CONSUL or .tools/consul, as ./test.sh fetches it).
        if (Array.IndexOf(args, "--consul") > 0)
        {
            var propagation = ConsulPropagation.MeasureAsync().GetAwaiter().GetResult();
            Console.WriteLine(propagation is { } p ? $"consul.propagation.p50.ms {p.P50Ms}, consul.propagation.p99.ms {p.P99Ms}" : "consul.propagation: no agent");
            return propagation is null ? 1 : 0;
        }

        // --admin: only the admin API under a 10,000-server PUT (a few seconds).
        if (Array.IndexOf(args, "--admin") > 0)
        {
            var (putMs, waitMs) = AdminPut.MeasureAsync().GetAwaiter().GetResult();
            Console.WriteLine($"admin.put.ms.10000 {putMs} ms, admin.put.other.wait.ms {waitMs} ms");
            return 0;
        }

        // --simulations: only the seeded simulations in virtual time (a minute or so).
        if (Array.IndexOf(args, "--simulations") > 0)
        {
            var simulated = new List<Metric>();
            AddSimulations(simulated);
            foreach (var metric in simulated)
            {
                Console.WriteLine($"{metric.Name,-32} {metric.Value,10:0.###} {metric.Unit}");
            }

            return 0;
        }

        // --yarp: only YARP with Checkups beside YARP's RoundRobin (about half a minute).
        if (Array.IndexOf(args, "--yarp") > 0)
        {
            var yarp = YarpBench.MeasureAsync().GetAwaiter().GetResult();
            Console.WriteLine($"yarp.rps.ratio {yarp.RpsRatio} (Checkups {yarp.CheckupsRps}/s, RoundRobin {yarp.YarpRps}/s), yarp.extra.bytes {yarp.ExtraBytes}, yarp.fault.failed.checkups {yarp.FailedCheckups}, yarp.fault.failed.yarp {yarp.FailedYarp}");
            return 0;
        }

        // --peers: only the handlers a .NET team would pick instead (plain, round robin, ServiceDiscovery, + resilience,
        // Checkups), steady and with a backend stopped (about a minute).
        if (Array.IndexOf(args, "--peers") > 0)
        {
            foreach (var metric in PeersBench.MeasureAsync().GetAwaiter().GetResult().Metrics())
            {
                Console.WriteLine($"{metric.Name,-36} {metric.Value,10:0.###} {metric.Unit}");
            }

            return 0;
        }

        // --hostile: only the heartbeat rounds against misbehaving servers (about half a minute).
        if (Array.IndexOf(args, "--hostile") > 0)
        {
            var (heapKb, fds, open, longestMs) = HostileRounds.Measure(1000);
            Console.WriteLine($"hostile.heap.growth.kb.1000 {heapKb} KB, hostile.fd.growth.1000 {fds}, hostile.open.after {open}, hostile.round.ms.max {longestMs} ms");
            return 0;
        }

        var metrics = new List<Metric>();
        using (var registry = Fixtures.Registry(10))
        {
            var (ns, bytes) = Measure(() => registry.SelectPeer(Fixtures.Upstream));
            metrics.Add(new("wrr.pick.ns", ns, "ns"));
            metrics.Add(new("wrr.pick.bytes", bytes, "bytes"));
        }

        using (var registry = Fixtures.Registry(4))
        {
            metrics.Add(new("wrr.pick.ns.4", Measure(() => registry.SelectPeer(Fixtures.Upstream)).Nanoseconds, "ns"));
        }

        using (var registry = Fixtures.Registry(100))
        {
            metrics.Add(new("wrr.pick.ns.100", Measure(() => registry.SelectPeer(Fixtures.Upstream)).Nanoseconds, "ns"));
        }

        using (var registry = Fixtures.Registry(10))
        {
            // One server err: the run leaves it out and watches the clock for its return.
            Fixtures.MarkErr(registry, 10, 10);
            metrics.Add(new("wrr.pick.ns.err", Measure(() => registry.SelectPeer(Fixtures.Upstream)).Nanoseconds, "ns"));
        }

        var build = Stopwatch.StartNew();
        using (var registry = Fixtures.Registry(10_000, weight: static i => 1 + (i % 100)))
        {
            // Building the registry includes the cluster's schedule: nginx's cycle over 10,000 servers (505,000 steps).
            metrics.Add(new("wrr.build.ms.10000", Math.Round(build.Elapsed.TotalMilliseconds, 1), "ms"));
            var (ns, bytes) = Measure(() => registry.SelectPeer(Fixtures.Upstream));
            metrics.Add(new("wrr.pick.ns.10000", ns, "ns"));
            metrics.Add(new("wrr.pick.bytes.10000", bytes, "bytes"));
            Fixtures.MarkErr(registry, 10_000, 100);
            metrics.Add(new("wrr.pick.ns.10000.err1pct", Measure(() => registry.SelectPeer(Fixtures.Upstream)).Nanoseconds, "ns"));
        }

        using (var registry = Fixtures.Registry(10))
        {
            var (ns, bytes) = Measure(() => Fixtures.ExecuteSynchronously(registry));
            metrics.Add(new("try.execute.ns", ns, "ns"));
            metrics.Add(new("try.execute.bytes", bytes, "bytes"));
        }

        using (var registry = Fixtures.Registry(10))
        {
            var calls = new Checkups.TestUtils.PendingCallback();
            var server = registry.SelectPeer(Fixtures.Upstream);
            var (ns, bytes) = Measure(() => calls.Execute(registry, Fixtures.Upstream));
            var (_, callbackBytes) = Measure(() => calls.CallbackAlone(server));
            metrics.Add(new("try.execute.async.ns", ns, "ns"));
            metrics.Add(new("try.execute.async.bytes", Math.Round(bytes - callbackBytes, 3), "bytes"));
        }

        using (var registry = Fixtures.Registry(10))
        {
            var (ns, bytes) = Measure(() => Leasing.AcquireAndComplete(registry));
            metrics.Add(new("lease.ns", ns, "ns"));
            metrics.Add(new("lease.bytes", bytes, "bytes"));
        }

        using (var registry = Fixtures.Registry(10_000, mode: BalancingModes.PowerOfTwoChoices))
        {
            var (ns, bytes) = Measure(() => registry.SelectPeer(Fixtures.Upstream));
            metrics.Add(new("p2c.pick.ns.10000", ns, "ns"));
            metrics.Add(new("p2c.pick.bytes.10000", bytes, "bytes"));
        }

        // The same pick while another upstream of the same registry flaps (a server err and back, in a loop on the other
        // core): health is per upstream, so the measured upstream's cached out-map stays valid.
        using (var registry = Fixtures.Registry(10_000, mode: BalancingModes.PowerOfTwoChoices, neighbour: true))
        {
            using var stop = new System.Threading.CancellationTokenSource();
            var flapping = Fixtures.FlapAsync(registry, stop.Token);
            var (ns, _) = Measure(() => registry.SelectPeer(Fixtures.Upstream));
            stop.Cancel();
            metrics.Add(new("p2c.pick.ns.10000.neighbour.flapping", ns, "ns"));
            metrics.Add(new("neighbour.flaps", flapping.GetAwaiter().GetResult(), "flaps"));
        }

        using (var registry = Fixtures.Registry(10, mode: BalancingModes.PowerOfTwoChoices))
        {
            metrics.Add(new("p2c.pick.ns.10", Measure(() => registry.SelectPeer(Fixtures.Upstream)).Nanoseconds, "ns"));
        }

        AddHashLookups(metrics);
        var (updateUs, updateBytes) = Updating.Measure(10_000);
        metrics.Add(new("update.us.10000", updateUs, "us"));
        metrics.Add(new("update.bytes.10000", updateBytes, "bytes"));

        var (startMs, reloadMs) = ConfigurationBinding.Measure(10_000);
        metrics.Add(new("config.bind.ms.10000", Math.Max(startMs, reloadMs), "ms"));
        metrics.Add(new("config.start.ms.10000", startMs, "ms"));
        metrics.Add(new("config.reload.ms.10000", reloadMs, "ms"));

        if (!quick)
        {
            var (rpsRatio, extraBytes, plainPerSecond, balancedPerSecond) = HttpHandlerBench.MeasureAsync().GetAwaiter().GetResult();
            metrics.Add(new("http.handler.rps.ratio", rpsRatio, "ratio"));
            metrics.Add(new("http.handler.extra.bytes", extraBytes, "bytes"));
            metrics.Add(new("http.plain.rps", plainPerSecond, "requests/s"));
            metrics.Add(new("http.handler.rps", balancedPerSecond, "requests/s"));
            metrics.Add(new("http.awaiting.rps.ratio", HttpHandlerBench.MeasureAsync(reference: true).GetAwaiter().GetResult().RpsRatio, "ratio"));
            if (ConsulPropagation.MeasureAsync().GetAwaiter().GetResult() is { } propagation)
            {
                metrics.Add(new("consul.propagation.p50.ms", propagation.P50Ms, "ms"));
                metrics.Add(new("consul.propagation.p99.ms", propagation.P99Ms, "ms"));
            }

            var yarpFigures = YarpBench.MeasureAsync().GetAwaiter().GetResult();
            metrics.Add(new("yarp.rps.ratio", yarpFigures.RpsRatio, "ratio"));
            metrics.Add(new("yarp.extra.bytes", yarpFigures.ExtraBytes, "bytes"));
            metrics.Add(new("yarp.fault.failed.checkups", yarpFigures.FailedCheckups, "requests"));
            metrics.Add(new("yarp.fault.failed.yarp", yarpFigures.FailedYarp, "requests"));
            metrics.AddRange(PeersBench.MeasureAsync().GetAwaiter().GetResult().Metrics());
            var (adminPutMs, adminWaitMs) = AdminPut.MeasureAsync().GetAwaiter().GetResult();
            metrics.Add(new("admin.put.ms.10000", adminPutMs, "ms"));
            metrics.Add(new("admin.put.other.wait.ms", adminWaitMs, "ms"));
            AddHashing(metrics);
            AddSimulations(metrics);
            var (roundMs, threads) = HeartbeatRound.Measure(1000);
            metrics.Add(new("heartbeat.round.ms.1000", roundMs, "ms"));
            metrics.Add(new("heartbeat.round.threads.1000", threads, "threads"));
            var (heapKb, fds, open, longestMs) = HostileRounds.Measure(1000);
            metrics.Add(new("hostile.heap.growth.kb.1000", heapKb, "KB"));
            metrics.Add(new("hostile.fd.growth.1000", fds, "descriptors"));
            metrics.Add(new("hostile.open.after", open, "connections"));
            metrics.Add(new("hostile.round.ms.max", longestMs, "ms"));
        }

        string json = JsonSerializer.Serialize(metrics, ReportJsonContext.Default.ListMetric);
        File.WriteAllText(output, json + Environment.NewLine);
        foreach (var metric in metrics)
        {
            Console.WriteLine($"{metric.Name,-22} {metric.Value,12:0.###} {metric.Unit}");
        }

        return 0;
    }

    private static void AddHashLookups(List<Metric> metrics)
    {
        // Lookups: 100 servers, 16-byte keys, hashing included; 1,024 different keys in rotation.
        var keys = new byte[1024][];
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] = System.Text.Encoding.ASCII.GetBytes($"session-{i:D8}");
        }

        foreach (var (algorithm, name) in new[] { (HashAlgorithms.Maglev, "hash"), (HashAlgorithms.Ketama, "ketama") })
        {
            using var registry = Placement.Registry(Placement.Servers(100), algorithm);
            int next = 0;
            var (ns, bytes) = Measure(() => registry.SelectPeer(Placement.Upstream, keys[next++ & 1023].AsSpan()));
            metrics.Add(new($"{name}.lookup.ns", ns, "ns"));
            if (name == "hash")
            {
                metrics.Add(new("hash.lookup.bytes", bytes, "bytes"));
            }
        }
    }

    private static void AddHashing(List<Metric> metrics)
    {
        metrics.Add(new("hash.build.ms.1000", Placement.BuildMilliseconds(1000), "ms"));

        // Balance over 10,000,000 distinct keys and 100 equal servers; disruption when one of them goes or one comes.
        const int Keys = 10_000_000;
        var hundred = Placement.Servers(100);
        var ninetyNine = hundred.Skip(1).ToList();
        var hundredAndOne = Placement.Servers(101);
        foreach (var (algorithm, name) in new[] { (HashAlgorithms.Maglev, "hash"), (HashAlgorithms.Ketama, "ketama") })
        {
            int[] all;
            using (var registry = Placement.Registry(hundred, algorithm))
            {
                all = Placement.Map(registry, Keys);
            }

            metrics.Add(new($"{name}.maxmean.100", Math.Round(Placement.MaxOverMean(all, 100), 4), "ratio"));
            using (var removed = Placement.Registry(ninetyNine, algorithm))
            {
                metrics.Add(new($"{name}.moved.remove.100", Math.Round(Placement.MovedOverIdeal(all, Placement.Map(removed, Keys), 1.0 / 100), 4), "ratio"));
            }

            if (name == "hash")
            {
                using var added = Placement.Registry(hundredAndOne, algorithm);
                metrics.Add(new("hash.moved.add.100", Math.Round(Placement.MovedOverIdeal(all, Placement.Map(added, Keys), 1.0 / 101), 4), "ratio"));
            }
        }

        var seed = new SeedRing(hundred);
        var seedAll = Placement.Map(seed, hundred, Keys);
        metrics.Add(new("seedring.maxmean.100", Math.Round(Placement.MaxOverMean(seedAll, 100), 4), "ratio"));
        var seedRemoved = Placement.Map(new SeedRing(ninetyNine), ninetyNine, Keys);
        metrics.Add(new("seedring.moved.remove.100", Math.Round(Placement.MovedOverIdeal(seedAll, seedRemoved, 1.0 / 100), 4), "ratio"));

        // Weighted balance: ten servers weighted 1..10.
        var weighted = Placement.Servers(10, i => i + 1);
        using (var registry = Placement.Registry(weighted, HashAlgorithms.Maglev))
        {
            metrics.Add(new("hash.weight.maxerr", Math.Round(Placement.WeightError(Placement.Map(registry, Keys), weighted), 4), "ratio"));
        }

        using (var registry = Placement.Registry(weighted, HashAlgorithms.Ketama))
        {
            metrics.Add(new("ketama.weight.maxerr", Math.Round(Placement.WeightError(Placement.Map(registry, Keys), weighted), 4), "ratio"));
        }

        metrics.Add(new("seedring.weight.maxerr", Math.Round(Placement.WeightError(Placement.Map(new SeedRing(weighted), weighted, Keys), weighted), 4), "ratio"));
    }

    private static void AddSimulations(List<Metric> metrics)
    {
        // One server ten times slower and one that stalls 5 s once in a thousand calls, through leases (in flight counted).
        foreach (var (mode, name) in new[] { (BalancingModes.Fastest, "fastest"), (BalancingModes.WeightedRoundRobin, "wrr"), (BalancingModes.LeastRequests, "least"), (BalancingModes.PowerOfTwoChoices, "p2c") })
        {
            metrics.Add(new($"{name}.p99.ratio", Math.Round(Simulations.P99Ratio(mode), 3), "ratio"));
        }

        // Linkerd's published setup (one server at 2 s for half the run), for comparison with its figures.
        foreach (var (mode, name) in new[] { (BalancingModes.Fastest, "fastest"), (BalancingModes.WeightedRoundRobin, "wrr") })
        {
            metrics.Add(new($"{name}.p99.ratio.slowperiod", Math.Round(Simulations.P99Ratio(mode, Simulations.Scenario.SlowPeriod), 3), "ratio"));
        }
        foreach (int healthy in new[] { 100, 70, 50, 0 })
        {
            metrics.Add(new($"local.share.{healthy}", Simulations.LocalShare(healthy), "ratio"));
        }
    }

    /// <summary>Best nanoseconds per operation over several rounds, and bytes allocated per operation.</summary>
    private static (double Nanoseconds, double Bytes) Measure<T>(Func<T> operation)
    {
        const int Batch = 100_000;

        // Warm up for half a second, so tiered compilation has finished before anything is measured.
        long warmUntil = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 2;
        while (Stopwatch.GetTimestamp() < warmUntil)
        {
            for (int i = 0; i < 1_000; i++)
            {
                operation();
            }
        }

        double best = double.MaxValue;
        long allocated = 0;
        long operations = 0;
        for (int round = 0; round < 7; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < Batch * 10; i++)
            {
                operation();
            }

            long elapsed = Stopwatch.GetTimestamp() - start;
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
            operations += Batch * 10;
            best = Math.Min(best, elapsed * 1e9 / Stopwatch.Frequency / (Batch * 10));
        }

        return (Math.Round(best, 2), Math.Round((double)allocated / operations, 3));
    }
}

internal sealed record Metric(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("value")] double Value,
    [property: JsonPropertyName("unit")] string Unit);

[JsonSerializable(typeof(List<Metric>))]
internal sealed partial class ReportJsonContext : JsonSerializerContext;
