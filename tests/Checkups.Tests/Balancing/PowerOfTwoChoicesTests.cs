using System;
using System.Collections.Immutable;
using System.Linq;
using Checkups.Balancing;
using Checkups.Configuration;
using Checkups.Model;
using Checkups.Registry;
using Checkups.TestUtils;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;

namespace Checkups.Tests.Balancing;

public sealed class PowerOfTwoChoicesTests
{
    private static UpstreamRegistry Registry(int servers, Func<int, int> weight, Func<int, bool>? down = null)
    {
        var upstream = new UpstreamOptions { Mode = BalancingModes.PowerOfTwoChoices };
        for (int i = 0; i < servers; i++)
        {
            upstream.Servers.Add(Upstreams.Server(10000 + i, weight(i), maxFails: 1, down: down?.Invoke(i) ?? false));
        }

        var options = new CheckupsOptions();
        options.Upstreams.Add("api", upstream);
        return new UpstreamRegistry(options, new FakeTimeProvider(), null, RandomSource.Seeded(11));
    }

    [Property]
    public Property AliasTable_EveryOutcome_ServersOwnExactlyTheirWeightsShare()
    {
        return Prop.ForAll(
            Gen.Choose(1, 100).ArrayOf().Where(w => w.Length is > 0 and <= 40).ToArbitrary(),
            weights =>
            {
                using var registry = Registry(weights.Length, i => weights[i]);
                var servers = registry.Get("api").Clusters[0].Servers.ToArray();
                var table = new WeightedAliasTable(servers);
                var counts = new long[servers.Length];
                for (long r = 0; r < table.Span; r++)
                {
                    counts[table.DrawAt(r)]++;
                }

                // n × total outcomes; server k owns weight(k) × n of them: its exact share.
                return counts.Select((c, k) => c == (long)weights[k] * servers.Length).All(ok => ok)
                    .Label("each server owns weight × servers of the table's outcomes");
            });
    }

    [Fact]
    public void AliasTable_RandomDraws_FollowTheWeights()
    {
        using var registry = Registry(4, i => i + 1);
        var table = new WeightedAliasTable(registry.Get("api").Clusters[0].Servers.ToArray());
        var random = RandomSource.Seeded(5);
        var counts = new int[4];

        for (int i = 0; i < 200_000; i++)
        {
            counts[table.Draw(random)]++;
        }

        for (int k = 0; k < 4; k++)
        {
            double share = counts[k] / 200_000.0;
            Assert.InRange(share, (k + 1) / 10.0 - 0.01, (k + 1) / 10.0 + 0.01);
        }
    }

    [Fact]
    public void AliasTable_DownServers_AreNeverDrawn()
    {
        using var registry = Registry(6, i => i + 1, down: i => i % 2 == 0);
        var servers = registry.Get("api").Clusters[0].Servers.ToArray();
        var table = new WeightedAliasTable(servers);

        var drawn = Enumerable.Range(0, (int)table.Span).Select(r => table.DrawAt(r)).Distinct().Order();

        Assert.Equal(new[] { 1, 3, 5 }, drawn);
    }

    [Fact]
    public void Select_TenThousandServers_AllocatesNothing_AndSkipsErrServers()
    {
        using var registry = Registry(10_000, i => 1 + i % 100);
        for (int i = 0; i < 100; i++)
        {
            registry.ReportFailure("api", "127.0.0.1", 10000 + i * 100);
        }

        for (int i = 0; i < 1000; i++)
        {
            registry.SelectPeer("api");
        }

        var picked = new int[20_000];
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < picked.Length; i++)
        {
            picked[i] = registry.SelectPeer("api").Port;
        }

        // Less than a byte per pick: no pick allocates (the runtime may allocate once on this thread meanwhile).
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < picked.Length, $"{allocated} bytes for {picked.Length} picks");
        Assert.DoesNotContain(picked, port => (port - 10000) % 100 == 0);
    }

    [Fact]
    public void Select_MostServersErr_FallsBackToTheUsableOnes()
    {
        using var registry = Registry(300, _ => 1);
        for (int i = 0; i < 297; i++)
        {
            registry.ReportFailure("api", "127.0.0.1", 10000 + i);
        }

        var picked = Enumerable.Range(0, 60).Select(_ => registry.SelectPeer("api").Port).Distinct().Order();

        Assert.Equal(new[] { 10297, 10298, 10299 }, picked);
    }
}
