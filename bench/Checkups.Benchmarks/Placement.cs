using System;
using System.Buffers.Text;
using System.Collections.Generic;
using System.Linq;
using Checkups.Balancing;
using Checkups.Configuration;
using Checkups.Registry;

namespace Checkups.Benchmarks;

/// <summary>Where keys land, side by side: the Maglev table, the nginx-compatible ketama ring and the seed library's ring.</summary>
internal static class Placement
{
    public const string Upstream = "hash";

    public static List<(string Key, int Weight)> Servers(int count, Func<int, int>? weight = null) =>
        Enumerable.Range(0, count).Select(i => ($"127.0.0.1:{10000 + i}", weight?.Invoke(i) ?? 1)).ToList();

    public static UpstreamRegistry Registry(IReadOnlyList<(string Key, int Weight)> servers, string algorithm)
    {
        var upstream = new UpstreamOptions { Mode = BalancingModes.Hash };
        upstream.Hash.Algorithm = algorithm;
        foreach (var (key, weight) in servers)
        {
            upstream.Servers.Add(new ServerOptions { Host = "127.0.0.1", Port = int.Parse(key.AsSpan(10), System.Globalization.CultureInfo.InvariantCulture), Weight = weight });
        }

        var options = new CheckupsOptions();
        options.Upstreams.Add(Upstream, upstream);
        return new UpstreamRegistry(options);
    }

    /// <summary>The key numbered <paramref name="i"/>: "key" and its decimal digits, as UTF-8.</summary>
    public static ReadOnlySpan<byte> Key(long i, Span<byte> buffer)
    {
        "key"u8.CopyTo(buffer);
        Utf8Formatter.TryFormat(i, buffer[3..], out int written);
        return buffer[..(3 + written)];
    }

    /// <summary>Maps <paramref name="keys"/> keys to server ports (the port identifies the server across configurations).</summary>
    public static int[] Map(UpstreamRegistry registry, int keys)
    {
        var result = new int[keys];
        Span<byte> buffer = stackalloc byte[32];
        for (int i = 0; i < keys; i++)
        {
            result[i] = registry.SelectPeer(Upstream, Key(i, buffer)).Port;
        }

        return result;
    }

    public static int[] Map(SeedRing ring, IReadOnlyList<(string Key, int Weight)> servers, int keys)
    {
        var result = new int[keys];
        Span<byte> buffer = stackalloc byte[32];
        for (int i = 0; i < keys; i++)
        {
            result[i] = int.Parse(servers[ring.Lookup(Key(i, buffer))].Key.AsSpan(10), System.Globalization.CultureInfo.InvariantCulture);
        }

        return result;
    }

    /// <summary>The most loaded server's keys over the mean.</summary>
    public static double MaxOverMean(int[] mapping, int servers)
    {
        var counts = new Dictionary<int, int>();
        foreach (int port in mapping)
        {
            counts[port] = counts.GetValueOrDefault(port) + 1;
        }

        return counts.Values.Max() / ((double)mapping.Length / servers);
    }

    /// <summary>The share of keys whose server changed, divided by the ideal share <paramref name="ideal"/>.</summary>
    public static double MovedOverIdeal(int[] before, int[] after, double ideal)
    {
        long moved = 0;
        for (int i = 0; i < before.Length; i++)
        {
            moved += before[i] != after[i] ? 1 : 0;
        }

        return moved / (double)before.Length / ideal;
    }

    /// <summary>max over servers of |share − weight/total| / (weight/total).</summary>
    public static double WeightError(int[] mapping, IReadOnlyList<(string Key, int Weight)> servers)
    {
        var counts = new Dictionary<int, int>();
        foreach (int port in mapping)
        {
            counts[port] = counts.GetValueOrDefault(port) + 1;
        }

        double total = servers.Sum(s => s.Weight);
        double worst = 0;
        foreach (var (key, weight) in servers)
        {
            int port = int.Parse(key.AsSpan(10), System.Globalization.CultureInfo.InvariantCulture);
            double share = counts.GetValueOrDefault(port) / (double)mapping.Length;
            worst = Math.Max(worst, Math.Abs(share - (weight / total)) / (weight / total));
        }

        return worst;
    }

    /// <summary>How long building the Maglev table for <paramref name="servers"/> equal servers takes, best of several, in ms.</summary>
    public static double BuildMilliseconds(int count)
    {
        using var registry = Registry(Servers(count), HashAlgorithms.Maglev);
        var servers = registry.Get(Upstream).Clusters[0].Servers;
        int size = MaglevTable.SizeFor(count);
        double best = double.MaxValue;
        for (int round = 0; round < 7; round++)
        {
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            MaglevTable.Build(servers, size);
            best = Math.Min(best, System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }

        return Math.Round(best, 3);
    }
}
