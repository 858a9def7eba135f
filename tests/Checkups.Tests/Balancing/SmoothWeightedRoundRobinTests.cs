using System;
using System.Linq;
using System.Text;
using Checkups.Registry;
using Checkups.Tests.TestUtilities;
using FsCheck;
using FsCheck.Fluent;

namespace Checkups.Tests.Balancing;

public sealed class SmoothWeightedRoundRobinTests
{
    private static string Sequence(UpstreamRegistry registry, string names, int picks)
    {
        var text = new StringBuilder();
        for (int i = 0; i < picks; i++)
        {
            text.Append(names[registry.SelectPeer("api").Port - 8001]);
        }

        return text.ToString();
    }

    [Fact]
    public void Select_Weights1436_ReproducesLuaRestyCheckupsSequence()
    {
        using var registry = Upstreams.Registry("api", Upstreams.Weighted(1, 4, 3, 6));

        Assert.Equal(string.Concat(Enumerable.Repeat("EBCEBEACEBECBE", 3)), Sequence(registry, "ABCE", 42));
    }

    [Fact]
    public void Select_Weights123_ReproducesLuaRestyCheckupsSequence()
    {
        using var registry = Upstreams.Registry("api", Upstreams.Weighted(1, 2, 3));

        Assert.Equal(string.Concat(Enumerable.Repeat("CBACBC", 4)), Sequence(registry, "ABC", 24));
    }

    [Fact]
    public void Select_WeightsWhereNginxStraysMoreThanOnePick_StraysExactlyAsNginxDoes()
    {
        // nginx's smooth WRR (checked with an independent implementation) gives server 7 here 57 picks out of the first
        // 372 where 58.018 would be exact: a deviation of 1.018 picks.
        int[] w = { 85, 13, 35, 37, 26, 2, 85, 85, 88, 32, 57 };
        using var registry = Upstreams.Registry("api", Upstreams.Weighted(w));
        int total = w.Sum();
        var counts = new int[w.Length];
        double worst = 0;
        for (int pick = 1; pick <= total; pick++)
        {
            counts[registry.SelectPeer("api").Port - 8001]++;
            if (pick == 372)
            {
                Assert.Equal(57, counts[7]);
            }

            for (int i = 0; i < w.Length; i++)
            {
                worst = Math.Max(worst, Math.Abs(counts[i] - ((double)pick * w[i] / total)));
            }
        }

        Assert.Equal(1.0183, worst, 4);
        Assert.Equal(w, counts);
    }

    [Fact]
    public void Select_ServerDown_SkipsItAndKeepsOthersInProportion()
    {
        var upstream = Upstreams.WithServers(Upstreams.Server(8001, 1), Upstreams.Server(8002, 2, down: true), Upstreams.Server(8003, 3));
        using var registry = Upstreams.Registry("api", upstream);

        var ports = Enumerable.Range(0, 400).Select(_ => registry.SelectPeer("api").Port).ToList();

        Assert.DoesNotContain(8002, ports);
        Assert.Equal(100, ports.Count(p => p == 8001));
        Assert.Equal(300, ports.Count(p => p == 8003));
    }

    [Fact]
    public void ReportFailure_HalvesEffectiveWeightThenRecoversByOnePerPick()
    {
        using var registry = Upstreams.Registry("api", Upstreams.Weighted(1, 8));
        Assert.Equal(8002, registry.SelectPeer("api").Port);

        // 8 -> 4 -> 2 -> 1: three failures bring B down to weight 1, level with A.
        registry.ReportFailure("api", "127.0.0.1", 8002);
        registry.ReportFailure("api", "127.0.0.1", 8002);
        registry.ReportFailure("api", "127.0.0.1", 8002);
        var afterFailures = Enumerable.Range(0, 9).Select(_ => registry.SelectPeer("api").Port).ToList();

        // Effective weight climbs back by one per pick, so A gets more than its 1/9 share right after the failures…
        Assert.True(afterFailures.Count(p => p == 8001) >= 2, string.Join(",", afterFailures));

        // …and once recovered the exact 1:8 cycle returns.
        var later = Enumerable.Range(0, 90).Select(_ => registry.SelectPeer("api").Port).ToList();
        var cycle = later.Skip(later.Count - 72).ToList();
        Assert.Equal(8, cycle.Count(p => p == 8001));
        Assert.Equal(64, cycle.Count(p => p == 8002));
    }

    /// <summary>
    /// A full cycle gives each server exactly its weight (a theorem: the current weights sum to zero again). The running
    /// share stays close, but not always within one pick: nginx's algorithm itself strays further for some weight sets
    /// (see the next test). Over 200,000 random sets of 1..50 servers weighted 1..100, checked with an independent C
    /// implementation, the worst was 1.057 picks; the bound asserted here is 1.5.
    /// </summary>
    [Fact]
    public void Select_AnyWeights_FullCycleGivesEachServerExactlyItsWeightAndRunningShareStaysWithinOneAndAHalfPicks()
    {
        var weights = Gen.Choose(1, 100).ArrayOf().Where(a => a.Length is >= 1 and <= 50);

        Prop.ForAll(weights.ToArbitrary(), w =>
        {
            using var registry = Upstreams.Registry("api", Upstreams.Weighted(w));
            int total = w.Sum();
            var counts = new int[w.Length];
            for (int pick = 1; pick <= total; pick++)
            {
                counts[registry.SelectPeer("api").Port - 8001]++;
                for (int i = 0; i < w.Length; i++)
                {
                    double ideal = (double)pick * w[i] / total;
                    if (Math.Abs(counts[i] - ideal) >= 1.5)
                    {
                        return false;
                    }
                }
            }

            return counts.SequenceEqual(w);
        }).QuickCheckThrowOnFailure();
    }
}

public sealed class SmoothWeightedRoundRobinModeTests
{
    private static (Checkups.Model.Cluster Cluster, UpstreamRegistry Registry) ClusterOf(int[] weights, int maxFails = 0)
    {
        var upstream = Upstreams.WithServers(weights.Select((w, i) => Upstreams.Server(8001 + i, w, maxFails: maxFails)).ToArray());
        var registry = Upstreams.Registry("api", upstream);
        return (registry.Get("api").Clusters[0], registry);
    }

    private static int[] Picks(Checkups.Balancing.ServerSelector selector, int count)
    {
        var ports = new int[count];
        for (int i = 0; i < count; i++)
        {
            var context = default(Checkups.Balancing.SelectionContext);
            ports[i] = selector.Select(ref context)!.Port;
        }

        return ports;
    }

    [Fact]
    public void Cycle_AnyWeights_IsExactlyTheSequenceOfTheSteppedAlgorithm()
    {
        var weights = Gen.Choose(1, 60).ArrayOf().Where(a => a.Length is >= 1 and <= 12);

        Prop.ForAll(weights.ToArbitrary(), w =>
        {
            var (cluster, registry) = ClusterOf(w);
            using var _ = registry;
            var cycled = new Checkups.Balancing.SmoothWeightedRoundRobin(cluster.Servers);
            var stepped = new Checkups.Balancing.SmoothWeightedRoundRobin(cluster.Servers, maxCycle: 0);
            int n = 2 * w.Sum() + 3;
            return Picks(cycled, n).SequenceEqual(Picks(stepped, n));
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Cycle_WeightsWithCommonDivisor_MatchesReducedWeights()
    {
        var (big, r1) = ClusterOf(new[] { 100, 400, 300, 600 });
        var (small, r2) = ClusterOf(new[] { 1, 4, 3, 6 });
        using var _ = r1;
        using var __ = r2;

        Assert.Equal(
            Picks(new Checkups.Balancing.SmoothWeightedRoundRobin(small.Servers), 56),
            Picks(new Checkups.Balancing.SmoothWeightedRoundRobin(big.Servers, maxCycle: 0), 56));
    }

    [Fact]
    public void Select_RetryInsideCall_SkipsTriedServersInBothModes()
    {
        var (cluster, registry) = ClusterOf(new[] { 1, 4, 3, 6 });
        using var _ = registry;
        foreach (int maxCycle in new[] { Checkups.Balancing.SmoothWeightedRoundRobin.MaxCycle, 0 })
        {
            var selector = new Checkups.Balancing.SmoothWeightedRoundRobin(cluster.Servers, maxCycle);
            var context = default(Checkups.Balancing.SelectionContext);
            var seen = new System.Collections.Generic.List<int>();
            for (int i = 0; i < 4; i++)
            {
                var peer = selector.Select(ref context)!;
                seen.Add(peer.Port);
                context.Tried.Add(peer.Index);
            }

            Assert.Null(selector.Select(ref context));
            Assert.Equal(new[] { 8001, 8002, 8003, 8004 }, seen.Order().ToArray());
        }
    }

    [Fact]
    public void Select_RetriesInterleaved_DoNotDisturbTheSequenceOtherCallersSee()
    {
        var (cluster, registry) = ClusterOf(new[] { 1, 2, 3 });
        using var _ = registry;
        var selector = new Checkups.Balancing.SmoothWeightedRoundRobin(cluster.Servers);
        var normal = new System.Text.StringBuilder();

        for (int i = 0; i < 24; i++)
        {
            var context = default(Checkups.Balancing.SelectionContext);
            var peer = selector.Select(ref context)!;
            normal.Append("ABC"[peer.Port - 8001]);

            // Another caller's retry after its first server failed.
            var retry = default(Checkups.Balancing.SelectionContext);
            retry.Tried.Add(peer.Index);
            Assert.NotEqual(peer.Port, selector.Select(ref retry)!.Port);
        }

        Assert.Equal(string.Concat(Enumerable.Repeat("CBACBC", 4)), normal.ToString());
    }

    [Fact]
    public void Select_ServerErrThenRecovered_StepsMeanwhileAndReturnsToExactCycle()
    {
        var time = new ManualTimeProvider();
        var upstream = Upstreams.WithServers(Upstreams.Server(8001, 1, maxFails: 1, failTimeoutSeconds: 10), Upstreams.Server(8002, 2), Upstreams.Server(8003, 3));
        using var registry = Upstreams.Registry("api", upstream, time);

        registry.ReportFailure("api", "127.0.0.1", 8001);
        var whileErr = Enumerable.Range(0, 50).Select(_ => registry.SelectPeer("api").Port).ToList();
        Assert.DoesNotContain(8001, whileErr);
        // Stepping restarts from a reset state over the two healthy servers: 2:3 exactly per five picks.
        Assert.Equal(16, whileErr.Skip(10).Count(p => p == 8002));
        Assert.Equal(24, whileErr.Skip(10).Count(p => p == 8003));

        time.Advance(TimeSpan.FromSeconds(10));
        var after = Enumerable.Range(0, 66).Select(_ => registry.SelectPeer("api").Port).ToList();
        var lastCycles = after.Skip(6).ToList();
        Assert.Equal(10, lastCycles.Count(p => p == 8001));
        Assert.Equal(20, lastCycles.Count(p => p == 8002));
        Assert.Equal(30, lastCycles.Count(p => p == 8003));
    }
}
