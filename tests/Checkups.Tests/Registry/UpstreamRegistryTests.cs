using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Registry;
using Checkups.Status;
using Checkups.TestUtils;
using Microsoft.Extensions.Time.Testing;

namespace Checkups.Tests.Registry;

public sealed class UpstreamRegistryTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void Update_NewUpstream_AddsItAndBumpsVersion()
    {
        using var registry = new UpstreamRegistry(new CheckupsOptions(), _time);
        Assert.Equal(0, registry.Version);
        var changes = new List<UpstreamsChangedEventArgs>();
        registry.Changed += (_, e) => changes.Add(e);

        registry.Update("img", Upstreams.WithServers(Upstreams.Server(8001)));

        Assert.Equal(1, registry.Version);
        Assert.Equal(1, registry.Get("img").Version);
        Assert.Equal("img", Assert.Single(registry.GetAll()).Name);
        var change = Assert.Single(changes);
        Assert.Equal(1, change.Version);
        Assert.Equal(new[] { "img" }, change.Updated);
        Assert.Empty(change.Removed);
    }

    [Fact]
    public void Update_ServerThatStays_KeepsItsPassiveHealth_RemovedServerStateIsDropped()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(Upstreams.Server(8001, maxFails: 1), Upstreams.Server(8002, maxFails: 1), Upstreams.Server(8003, maxFails: 1)), _time);
        registry.ReportFailure("api", "127.0.0.1", 8001);
        registry.ReportFailure("api", "127.0.0.1", 8003);

        registry.Update("api", Upstreams.WithServers(Upstreams.Server(8001, maxFails: 1, weight: 5), Upstreams.Server(8002, maxFails: 1)));
        Assert.Equal(HealthStatus.Err, Upstreams.StatusOf(registry, 8001).Status);

        registry.Update("api", Upstreams.WithServers(Upstreams.Server(8001, maxFails: 1), Upstreams.Server(8002, maxFails: 1), Upstreams.Server(8003, maxFails: 1)));
        Assert.Equal(HealthStatus.Err, Upstreams.StatusOf(registry, 8001).Status);
        Assert.Equal(HealthStatus.Ok, Upstreams.StatusOf(registry, 8003).Status);
    }

    [Fact]
    public void UpdateServers_KeepsModeAndPolicies()
    {
        var upstream = Upstreams.WithLevels(new[] { Upstreams.Server(8001) }, new[] { Upstreams.Server(9001) });
        upstream.Try = 7;
        upstream.Timeouts.Read = TimeSpan.FromSeconds(42);
        using var registry = Upstreams.Registry("api", upstream, _time);

        registry.UpdateServers("api", new[] { Upstreams.Server(8005), Upstreams.Server(8006) });

        var snapshot = registry.Get("api");
        Assert.Equal(7, snapshot.Try);
        Assert.Equal(TimeSpan.FromSeconds(42), registry.GetTimeouts("api").Read);
        Assert.Equal(new[] { 8005, 8006 }, Assert.Single(snapshot.Clusters).Servers.Select(p => p.Port));
    }

    [Fact]
    public void UpdateNamedClusters_ReplacesLevelsWithNamedClusters()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(Upstreams.Server(8001)), _time);

        registry.UpdateNamedClusters("api", new Dictionary<string, ClusterOptions>
        {
            ["east"] = new() { Servers = { Upstreams.Server(8101) } },
            ["west"] = new() { Servers = { Upstreams.Server(8201) } },
        });

        var snapshot = registry.Get("api");
        Assert.True(snapshot.HasNamedClusters);
        Assert.Equal(new[] { "east", "west" }, snapshot.Clusters.Select(c => c.Name));
        Assert.Null(snapshot.Clusters[0].Level);
    }

    [Fact]
    public void UpdateClusters_UnknownUpstream_Throws()
    {
        using var registry = new UpstreamRegistry(new CheckupsOptions(), _time);

        Assert.Throws<UpstreamNotFoundException>(() => registry.UpdateClusters("nope", new[] { new ClusterOptions { Servers = { Upstreams.Server(1) } } }));
    }

    [Fact]
    public void Update_CallerMutatesOptionsAfterwards_SnapshotIsUnaffected()
    {
        using var registry = new UpstreamRegistry(new CheckupsOptions(), _time);
        var options = Upstreams.WithServers(Upstreams.Server(8001));

        registry.Update("api", options);
        options.Servers[0].Port = 9999;
        options.Servers.Add(Upstreams.Server(8002));

        Assert.Equal(new[] { 8001 }, registry.Get("api").Clusters[0].Servers.Select(p => p.Port));
    }

    [Fact]
    public void Delete_RemovesUpstreamAndItsHealth()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(Upstreams.Server(8001, maxFails: 1), Upstreams.Server(8002)), _time);
        registry.ReportFailure("api", "127.0.0.1", 8001);
        var changes = new List<UpstreamsChangedEventArgs>();
        registry.Changed += (_, e) => changes.Add(e);

        Assert.True(registry.Delete("API"));
        Assert.False(registry.Delete("api"));

        Assert.False(registry.TryGet("api", out _));
        Assert.Throws<UpstreamNotFoundException>(() => registry.SelectPeer("api"));
        Assert.Equal(new[] { "api" }, Assert.Single(changes).Removed);

        registry.Update("api", Upstreams.WithServers(Upstreams.Server(8001, maxFails: 1), Upstreams.Server(8002)));
        Assert.Equal(HealthStatus.Ok, Upstreams.StatusOf(registry, 8001).Status);
    }

    [Fact]
    public void Changed_HandlerThrows_ChangeIsStillApplied()
    {
        using var registry = new UpstreamRegistry(new CheckupsOptions(), _time);
        registry.Changed += (_, _) => throw new InvalidOperationException("subscriber bug");

        registry.Update("api", Upstreams.WithServers(Upstreams.Server(8001)));

        Assert.Equal(8001, registry.SelectPeer("api").Port);
    }

    [Fact]
    public async Task Concurrency_FourPickersWhileTenThousandUpdates_PeersComeFromCurrentSnapshotsAndProportionsHold()
    {
        const int Updates = 10_000;
        int[] weights = { 1, 2, 3 };
        UpstreamOptions Generation(int gen)
        {
            var upstream = Upstreams.Weighted(weights);
            foreach (var server in upstream.Servers)
            {
                server.Metadata["gen"] = gen.ToString(CultureInfo.InvariantCulture);
            }

            return upstream;
        }

        using var registry = Upstreams.Registry("api", Generation(0), _time);
        long firstVersion = registry.Version;
        var counts = new int[Updates + 1, weights.Length];
        int finished = 0;
        var failures = new List<string>();

        // Pickers run until the updater is done; the deadline only guards against a hang and is far beyond a slow run.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        var pickers = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            while (Volatile.Read(ref finished) == 0 && DateTime.UtcNow < deadline)
            {
                long before = registry.Version;
                var server = registry.SelectPeer("api");
                long after = registry.Version;
                int gen = int.Parse(server.Metadata["gen"], CultureInfo.InvariantCulture);
                long snapshotVersion = firstVersion + gen;
                if (snapshotVersion < before || snapshotVersion > after)
                {
                    lock (failures)
                    {
                        failures.Add($"server of version {snapshotVersion} picked between versions {before} and {after}");
                    }
                }

                Interlocked.Increment(ref counts[gen, server.Port - 8001]);
            }
        })).ToArray();

        var updater = Task.Run(() =>
        {
            for (int gen = 1; gen <= Updates; gen++)
            {
                // Wait (bounded) until the previous generation has been picked from, so picks and updates interleave.
                int previous = gen - 1;
                if (!SpinWait.SpinUntil(() => Volatile.Read(ref counts[previous, 0]) + Volatile.Read(ref counts[previous, 1]) + Volatile.Read(ref counts[previous, 2]) > 0, TimeSpan.FromSeconds(60)))
                {
                    lock (failures)
                    {
                        failures.Add($"no pick of generation {previous} within 60 s");
                    }

                    break;
                }

                registry.Update("api", Generation(gen));
            }

            Volatile.Write(ref finished, 1);
        });

        await Task.WhenAll(pickers.Append(updater));

        Assert.Empty(failures);
        Assert.Equal(firstVersion + Updates, registry.Version);
        int total = weights.Sum();
        long picks = 0;
        for (int gen = 0; gen <= Updates; gen++)
        {
            int n = 0;
            for (int s = 0; s < weights.Length; s++)
            {
                n += counts[gen, s];
            }

            picks += n;
            for (int s = 0; s < weights.Length; s++)
            {
                double ideal = (double)n * weights[s] / total;
                Assert.True(Math.Abs(counts[gen, s] - ideal) <= 1.0, $"generation {gen}: server {s} got {counts[gen, s]} of {n} picks");
            }
        }

        Assert.True(picks >= Updates, $"only {picks} picks happened");
    }

}
