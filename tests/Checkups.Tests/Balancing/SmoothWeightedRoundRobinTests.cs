using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Checkups.Registry;
using Checkups.TestUtils;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;

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
    [Property]
    public Property Select_AnyWeights_FullCycleGivesEachServerExactlyItsWeightAndRunningShareStaysWithinOneAndAHalfPicks()
    {
        var weights = Gen.Choose(1, 100).ArrayOf().Where(a => a.Length is >= 1 and <= 50);

        return Prop.ForAll(weights.ToArbitrary(), w =>
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
                        return false.Label($"running share within 1.5 picks: server {i} had {counts[i]} after {pick} picks, ideally {ideal:F2}");
                    }
                }
            }

            return counts.SequenceEqual(w).Label("a full cycle gives each server exactly its weight");
        });
    }
}

/// <summary>
/// lua-resty-checkups' behaviour after failures, recorded from lua (three weight-1 servers A, B, C): the running
/// sequence goes on after a failure, and a retry inside a call is a step over the servers it has not tried.
/// </summary>
public sealed class SmoothWeightedRoundRobinFailureTests
{
    private const string Names = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

    /// <summary>Runs <paramref name="calls"/> calls; writes every attempt's server, calls separated by spaces.</summary>
    private static async Task<string> Attempts(UpstreamRegistry registry, int calls, Func<int, bool> fails, int? tries = null)
    {
        var options = new Checkups.Execution.ExecuteOptions { Try = tries };
        var text = new StringBuilder();
        for (int call = 0; call < calls; call++)
        {
            if (call > 0)
            {
                text.Append(' ');
            }

            try
            {
                await registry.ExecuteAsync(
                    "api",
                    text,
                    (server, log, _) =>
                    {
                        log.Append(Names[server.Port - 8001]);
                        return fails(server.Port - 8001) ? throw new InvalidOperationException("fails") : ValueTask.FromResult(true);
                    },
                    options);
            }
            catch (Checkups.Execution.UpstreamCallException)
            {
                // Every try failed: the attempts are what the test reads.
            }
        }

        return text.ToString();
    }

    private static UpstreamRegistry ThreeServers(int maxFails = 0, int? tries = null)
    {
        var upstream = Upstreams.WithServers(Upstreams.Server(8001, maxFails: maxFails), Upstreams.Server(8002, maxFails: maxFails), Upstreams.Server(8003, maxFails: maxFails));
        upstream.Try = tries;
        return Upstreams.Registry("api", upstream);
    }

    [Fact]
    public async Task ExecuteAsync_Try1FirstServerFailing_SequenceGoesOnAsLua()
    {
        using var registry = ThreeServers();

        Assert.Equal("A B C A B C A B C", await Attempts(registry, 9, server => server == 0, tries: 1));
    }

    [Fact]
    public async Task ExecuteAsync_DefaultTryFirstServerFailing_RetriesStepTheSharedStateAsLua()
    {
        using var registry = ThreeServers();

        Assert.Equal("AB C B C AB C B AC B", await Attempts(registry, 9, server => server == 0));
    }

    [Fact]
    public void SelectPeer_AfterReportedFailure_SequenceGoesOnAsLua()
    {
        using var registry = ThreeServers();
        var text = new StringBuilder();
        text.Append(Names[registry.SelectPeer("api").Port - 8001]);
        registry.ReportFailure("api", "127.0.0.1", 8001);
        for (int i = 0; i < 6; i++)
        {
            text.Append(Names[registry.SelectPeer("api").Port - 8001]);
        }

        Assert.Equal("ABCABCA", text.ToString());
    }

    [Fact]
    public async Task ExecuteAsync_MaxFails3Try1AllFailing_LastServerKeptAsLua()
    {
        using var registry = ThreeServers(maxFails: 3);

        Assert.Equal("A B C A B C A B C C C C", await Attempts(registry, 12, _ => true, tries: 1));
    }

    [Fact]
    public async Task ExecuteAsync_MaxFails3DefaultTryAllFailing_RetriesStepTheSharedStateAsLua()
    {
        using var registry = ThreeServers(maxFails: 3);

        Assert.Equal("ABC CBA ABC", await Attempts(registry, 3, _ => true));
    }

    [Fact]
    public void ReportFailure_OneServerCluster_KeepsNoState()
    {
        using var registry = Upstreams.Registry("api", Upstreams.Weighted(5));
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(8001, registry.SelectPeer("api").Port);
            registry.ReportFailure("api", "127.0.0.1", 8001);
        }

        Assert.Equal(8001, registry.SelectPeer("api").Port);
    }

    [Fact]
    public void ReportFailure_Weight6_HalvesEffectiveWeightRoundingUpAsLua()
    {
        // lua: effective = ceil(effective / 2); 6 -> 3, then back up by one per pick. Computed by hand from the rule:
        // A=1, B=6: B (A=1, B=-1), B fails (eff 3); A=2, B=2 -> A on the tie (A=-2, total 4); B's effective weight climbs
        // 4, 5, 6 while B wins four picks, then A=4 beats B=3.
        using var registry = Upstreams.Registry("api", Upstreams.Weighted(1, 6));
        var text = new StringBuilder();
        text.Append("AB"[registry.SelectPeer("api").Port - 8001]);
        registry.ReportFailure("api", "127.0.0.1", 8002);
        for (int i = 0; i < 7; i++)
        {
            text.Append("AB"[registry.SelectPeer("api").Port - 8001]);
        }

        Assert.Equal(Reference(new[] { 1, 6 }, 8, failAt: new[] { 0 }, failing: 1), text.ToString());
        Assert.Equal("BABBBBBA", text.ToString());
    }

    /// <summary>
    /// For any weights and any one failing server, over any window of picks the failing server gets no more than its
    /// weight share (rounded up) + 1, both with one try per call and with retries.
    /// </summary>
    [Property]
    public Property ExecuteAsync_AnyWeightsOneServerFailing_FailingServerNeverGetsMoreThanItsShare()
    {
        var cases = Gen.Choose(1, 30).ArrayOf().Where(a => a.Length is >= 1 and <= 10)
            .SelectMany(w => Gen.Choose(0, w.Length - 1).Select(f => (Weights: w, Failing: f)))
            .SelectMany(c => Gen.Elements(1, 0).Select(t => (c.Weights, c.Failing, Tries: t)));

        return Prop.ForAll(cases.ToArbitrary(), c =>
        {
            using var registry = Upstreams.Registry("api", Upstreams.Weighted(c.Weights));
            int total = c.Weights.Sum();
            string attempts = Attempts(registry, (3 * total) + 5, server => server == c.Failing, c.Tries == 0 ? null : c.Tries)
                .GetAwaiter().GetResult().Replace(" ", string.Empty, StringComparison.Ordinal);
            var prefix = new int[attempts.Length + 1];
            for (int i = 0; i < attempts.Length; i++)
            {
                prefix[i + 1] = prefix[i] + (attempts[i] == Names[c.Failing] ? 1 : 0);
            }

            for (int a = 0; a < attempts.Length; a++)
            {
                for (int b = a + 1; b <= attempts.Length; b++)
                {
                    if (prefix[b] - prefix[a] > Math.Ceiling((double)(b - a) * c.Weights[c.Failing] / total) + 1)
                    {
                        return false.Label($"the failing server gets at most its share + 1 of any window: {prefix[b] - prefix[a]} of attempts {a}..{b} in {attempts}");
                    }
                }
            }

            return true.Label("the failing server gets at most its share + 1 of any window");
        });
    }

    /// <summary>
    /// The lock-free runs give exactly the sequence of the algorithm stepped pick by pick (an independent reference
    /// below), for any weights, with failures reported at any picks.
    /// </summary>
    [Property]
    public Property SelectPeer_AnyWeightsAndFailures_IsExactlyTheSteppedAlgorithm()
    {
        var cases = Gen.Choose(1, 12).ArrayOf().Where(a => a.Length is >= 1 and <= 8)
            .SelectMany(w => Gen.Choose(0, (2 * w.Sum()) + 5).ArrayOf().Select(f => (Weights: w, FailAt: f)));

        return Prop.ForAll(cases.ToArbitrary(), c =>
        {
            using var registry = Upstreams.Registry("api", Upstreams.Weighted(c.Weights));
            int picks = (3 * c.Weights.Sum()) + 6;
            var failAt = new HashSet<int>(c.FailAt);
            var text = new StringBuilder();
            for (int i = 0; i < picks; i++)
            {
                var server = registry.SelectPeer("api");
                text.Append(Names[server.Port - 8001]);
                if (failAt.Contains(i))
                {
                    registry.ReportFailure("api", server.Host, server.Port);
                }
            }

            string expected = Reference(c.Weights, picks, c.FailAt, failing: -1);
            return (text.ToString() == expected).Label($"the picks are the stepped algorithm's: {text} vs {expected}");
        });
    }

    /// <summary>
    /// The algorithm stepped pick by pick, straight from its description; the picks in <paramref name="failAt"/> fail
    /// (all of them when <paramref name="failing"/> is -1, else only when that server was picked).
    /// </summary>
    internal static string Reference(int[] weights, int picks, IEnumerable<int> failAt, int failing)
    {
        var fails = new HashSet<int>(failAt);
        var current = new long[weights.Length];
        var effective = (int[])weights.Clone();
        var text = new StringBuilder();
        for (int pick = 0; pick < picks; pick++)
        {
            int best = -1;
            long total = 0;
            for (int i = 0; i < weights.Length; i++)
            {
                current[i] += effective[i];
                total += effective[i];
                if (effective[i] < weights[i])
                {
                    effective[i]++;
                }

                if (best < 0 || current[i] > current[best])
                {
                    best = i;
                }
            }

            current[best] -= total;
            text.Append(Names[best]);
            if (fails.Contains(pick) && (failing < 0 || failing == best) && weights.Length > 1)
            {
                effective[best] = (effective[best] + 1) / 2;
            }
        }

        return text.ToString();
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
            ports[i] = selector.Pick(ref context)!.Port;
        }

        return ports;
    }

    [Property]
    public Property Create_LargeCluster_IsTheScheduleAndGivesExactlyTheExactAlgorithmsSequence()
    {
        var weights = Gen.Choose(1, 60).ArrayOf().Where(a => a.Length is >= 2 and <= 40);

        return Prop.ForAll(weights.ToArbitrary(), w =>
        {
            var (cluster, registry) = ClusterOf(w);
            using var _ = registry;
            var exact = Checkups.Balancing.SmoothWeightedRoundRobin.Create(cluster.Servers, exactBudget: long.MaxValue);
            var schedule = Checkups.Balancing.SmoothWeightedRoundRobin.Create(cluster.Servers, exactBudget: 0);
            int n = (2 * w.Sum()) + 3;
            return (exact is Checkups.Balancing.SmoothWeightedRoundRobin).Label("an unbounded exact budget gives the exact algorithm")
                .And((schedule is Checkups.Balancing.WeightedSchedule).Label("no exact budget gives the schedule"))
                .And(Picks(exact, n).SequenceEqual(Picks(schedule, n)).Label("the schedule picks exactly the exact algorithm's sequence"));
        });
    }

    [Property]
    public Property SmoothSequence_GroupedRun_MatchesThePlainRunFromAnyState()
    {
        var cases = Gen.Choose(1, 9).ArrayOf().Where(a => a.Length is >= 33 and <= 80)
            .SelectMany(w => Gen.Choose(-50, 50).ArrayOf().Where(s => s.Length >= w.Length).Select(s => (Weights: w, Start: s)));

        return Prop.ForAll(cases.ToArbitrary(), c =>
        {
            int n = c.Weights.Length;
            var participants = Enumerable.Range(0, n).ToArray();
            var grouped = c.Start.Take(n).Select(v => (long)v).ToArray();
            var plain = (long[])grouped.Clone();
            var groupedOrder = new int[200];
            Checkups.Balancing.SmoothSequence.Run(c.Weights, participants, grouped, groupedOrder);

            // The plain run, one participant group at a time so it stays under the grouping threshold.
            var plainOrder = new int[200];
            long total = c.Weights.Sum();
            for (int step = 0; step < plainOrder.Length; step++)
            {
                int best = -1;
                for (int i = 0; i < n; i++)
                {
                    plain[i] += c.Weights[i];
                    if (best < 0 || plain[i] > plain[best])
                    {
                        best = i;
                    }
                }

                plain[best] -= total;
                plainOrder[step] = best;
            }

            return groupedOrder.SequenceEqual(plainOrder).Label("the grouped run picks in the plain run's order")
                .And(grouped.SequenceEqual(plain).Label("the grouped run ends in the plain run's state"));
        });
    }

    [Fact]
    public void Cycle_WeightsWithCommonDivisor_MatchesReducedWeights()
    {
        var (big, r1) = ClusterOf(new[] { 100, 400, 300, 600 });
        var (small, r2) = ClusterOf(new[] { 1, 4, 3, 6 });
        using var _ = r1;
        using var __ = r2;

        Assert.Equal(
            Picks(Checkups.Balancing.SmoothWeightedRoundRobin.Create(small.Servers), 56),
            Picks(Checkups.Balancing.SmoothWeightedRoundRobin.Create(big.Servers, exactBudget: 0), 56));
    }

    [Fact]
    public void Select_RetryInsideCall_SkipsTriedServersInBothEngines()
    {
        var (cluster, registry) = ClusterOf(new[] { 1, 4, 3, 6 });
        using var _ = registry;
        foreach (long budget in new[] { Checkups.Balancing.SmoothWeightedRoundRobin.ExactBudget, 0 })
        {
            var selector = Checkups.Balancing.SmoothWeightedRoundRobin.Create(cluster.Servers, budget);
            var context = default(Checkups.Balancing.SelectionContext);
            var seen = new List<int>();
            for (int i = 0; i < 4; i++)
            {
                var server = selector.Pick(ref context)!;
                seen.Add(server.Port);
                context.Tried.Add(server.Index);
            }

            Assert.Null(selector.Pick(ref context));
            Assert.Equal(new[] { 8001, 8002, 8003, 8004 }, seen.Order().ToArray());
        }
    }

    [Fact]
    public void Select_ServerErrThenRecovered_StepsOverItAndTakesItBackAtOnce()
    {
        var time = new FakeTimeProvider();
        var upstream = Upstreams.WithServers(Upstreams.Server(8001, 1, maxFails: 1, failTimeoutSeconds: 10), Upstreams.Server(8002, 2), Upstreams.Server(8003, 3));
        using var registry = Upstreams.Registry("api", upstream, time);

        registry.ReportFailure("api", "127.0.0.1", 8001);
        var whileErr = Enumerable.Range(0, 50).Select(_ => registry.SelectPeer("api").Port).ToList();
        Assert.DoesNotContain(8001, whileErr);
        // nginx steps over it: 2:3 from whatever state the failure left, so within two picks of exact.
        Assert.InRange(whileErr.Count(p => p == 8002), 18, 22);

        time.Advance(TimeSpan.FromSeconds(10));
        var after = Enumerable.Range(0, 60).Select(_ => registry.SelectPeer("api").Port).ToList();
        Assert.Contains(8001, after.Take(6));
        Assert.InRange(after.Count(p => p == 8001), 8, 12);
        Assert.InRange(after.Count(p => p == 8002), 18, 22);
    }

    [Fact]
    public void Select_LargeClusterWithServersErr_SkipsThemAndKeepsTheOthersInProportion()
    {
        var weights = Enumerable.Range(0, 400).Select(i => 1 + (i % 50)).ToArray();
        var upstream = Upstreams.WithServers(weights.Select((w, i) => Upstreams.Server(8001 + i, w, maxFails: 1, failTimeoutSeconds: 60)).ToArray());
        using var registry = Upstreams.Registry("api", upstream, new FakeTimeProvider());
        Assert.IsType<Checkups.Balancing.WeightedSchedule>(registry.Get("api").Clusters[0].Selector);
        var err = new HashSet<int> { 8001 + 7, 8001 + 99, 8001 + 250, 8001 + 399 };
        foreach (int port in err)
        {
            registry.ReportFailure("api", "127.0.0.1", port);
        }

        int total = weights.Sum() - err.Sum(p => weights[p - 8001]);
        var counts = new Dictionary<int, int>();
        for (int i = 0; i < 4 * total; i++)
        {
            int port = registry.SelectPeer("api").Port;
            counts[port] = counts.GetValueOrDefault(port) + 1;
        }

        Assert.DoesNotContain(counts.Keys, err.Contains);
        for (int i = 0; i < weights.Length; i++)
        {
            if (!err.Contains(8001 + i))
            {
                // Each skipped turn goes to the next server of the cycle: shares stay within a few picks of exact.
                Assert.InRange(counts.GetValueOrDefault(8001 + i), (4 * weights[i]) - 2, (4 * weights[i] * 1.05) + 3);
            }
        }
    }

    [Fact]
    public async Task Select_ConcurrentPicksFailuresAndRetries_NeverLosesAServerAndSettlesToExactShares()
    {
        int[] weights = { 1, 4, 3, 6, 2 };
        var (cluster, registry) = ClusterOf(weights);
        using var _ = registry;
        var selector = cluster.Selector;
        int total = weights.Sum();
        var nulls = 0;
        var workers = Enumerable.Range(0, 4).Select(worker => Task.Run(() =>
        {
            for (int i = 0; i < 20_000; i++)
            {
                var context = default(Checkups.Balancing.SelectionContext);
                var server = selector.Pick(ref context);
                if (server is null)
                {
                    System.Threading.Interlocked.Increment(ref nulls);
                    continue;
                }

                if ((i + worker) % 7 == 0)
                {
                    // A failed attempt and its retry, as the try loop makes them.
                    selector.OnCompleted(server, new Checkups.Balancing.CallOutcome(failed: true, 0));
                    context.Tried.Add(server.Index);
                    if (selector.Pick(ref context) is null)
                    {
                        System.Threading.Interlocked.Increment(ref nulls);
                    }
                }
            }
        })).ToArray();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromMinutes(5));

        Assert.Equal(0, nulls);

        // Quiet again: effective weights climb back and the picks settle into full cycles of exact shares.
        Picks(selector, 10 * total);
        var counts = new int[weights.Length];
        foreach (int port in Picks(selector, 10 * total))
        {
            counts[port - 8001]++;
        }

        for (int i = 0; i < weights.Length; i++)
        {
            Assert.InRange(counts[i], (10 * weights[i]) - 2, (10 * weights[i]) + 2);
        }
    }
}
