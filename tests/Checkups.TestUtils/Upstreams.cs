using System;
using System.Collections.Frozen;
using System.Linq;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Registry;
using Checkups.Status;
using Microsoft.Extensions.Time.Testing;

namespace Checkups.TestUtils;

/// <summary>Short ways to build options in tests.</summary>
public static class Upstreams
{
    public static ServerOptions Server(int port, int weight = 1, int maxFails = 0, double failTimeoutSeconds = 10, string host = "127.0.0.1", bool down = false) =>
        new() { Host = host, Port = port, Weight = weight, MaxFails = maxFails, FailTimeout = TimeSpan.FromSeconds(failTimeoutSeconds), Down = down };

    public static UpstreamOptions WithServers(params ServerOptions[] servers)
    {
        var upstream = new UpstreamOptions();
        foreach (var server in servers)
        {
            upstream.Servers.Add(server);
        }

        return upstream;
    }

    public static UpstreamOptions WithLevels(params ServerOptions[][] levels)
    {
        var upstream = new UpstreamOptions();
        foreach (var level in levels)
        {
            var cluster = new ClusterOptions();
            foreach (var server in level)
            {
                cluster.Servers.Add(server);
            }

            upstream.Clusters.Add(cluster);
        }

        return upstream;
    }

    public static UpstreamOptions Weighted(params int[] weights) =>
        WithServers(weights.Select((w, i) => Server(8001 + i, w)).ToArray());

    /// <summary>The status of the server on <paramref name="port"/> of upstream <paramref name="upstream"/> (first cluster holding it).</summary>
    /// <summary>
    /// Completes with <see langword="true"/> once <paramref name="condition"/> holds, checked now and at each change of
    /// <paramref name="registry"/> (its <see cref="UpstreamRegistry.Changed"/> event, not a poll); <see langword="false"/>
    /// when <paramref name="bound"/> (default <see cref="Pulse.Bound"/>) ran out first.
    /// </summary>
    public static async Task<bool> WhenAsync(UpstreamRegistry registry, Func<bool> condition, TimeSpan? bound = null)
    {
        var changed = new Pulse();
        EventHandler<UpstreamsChangedEventArgs> fire = (_, _) => changed.Fire();
        registry.Changed += fire;
        try
        {
            return await changed.UntilAsync(condition, bound);
        }
        finally
        {
            registry.Changed -= fire;
        }
    }

    public static ServerStatus StatusOf(UpstreamRegistry registry, int port, string upstream = "api") =>
        registry.GetStatus().Upstreams[upstream].Clusters.SelectMany(c => c.Servers).First(s => s.Server.EndsWith($":{port}", StringComparison.Ordinal));

    /// <summary>A registry whose upstreams may also name the given probe types (registered probes, as DI would know them).</summary>
    public static UpstreamRegistry NewRegistry(CheckupsOptions options, TimeProvider time, params string[] probeTypes) =>
        new(options, time, null, Checkups.Balancing.RandomSource.Shared, UpstreamRegistry.BuiltInProbeTypes.Concat(probeTypes).ToFrozenSet(StringComparer.OrdinalIgnoreCase), Checkups.Sources.UpstreamSourceNames.Runtime);

    public static UpstreamRegistry Registry(string name, UpstreamOptions upstream, TimeProvider? time = null)
    {
        var options = new CheckupsOptions();
        options.Upstreams.Add(name, upstream);
        return new UpstreamRegistry(options, time ?? new FakeTimeProvider());
    }
}
