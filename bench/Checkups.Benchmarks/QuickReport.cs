using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text.Json;
using System.Text.Json.Serialization;

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
        for (int i = 1; i < args.Length; i++)
        {
            if (args[i] == "--out" && i + 1 < args.Length)
            {
                output = args[++i];
            }
        }

        if (output is null)
        {
            Console.Error.WriteLine("usage: report --out FILE");
            return 2;
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

        using (var registry = Fixtures.Registry(10, stepped: true))
        {
            metrics.Add(new("wrr.pick.ns.stepped", Measure(() => registry.SelectPeer(Fixtures.Upstream)).Nanoseconds, "ns"));
        }

        using (var registry = Fixtures.Registry(10))
        {
            var (ns, bytes) = Measure(() => Fixtures.ExecuteSynchronously(registry));
            metrics.Add(new("try.execute.ns", ns, "ns"));
            metrics.Add(new("try.execute.bytes", bytes, "bytes"));
        }

        string json = JsonSerializer.Serialize(metrics, ReportJsonContext.Default.ListMetric);
        File.WriteAllText(output, json + Environment.NewLine);
        foreach (var metric in metrics)
        {
            Console.WriteLine($"{metric.Name,-22} {metric.Value,12:0.###} {metric.Unit}");
        }

        return 0;
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
