using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Balancing;
using Checkups.Configuration;
using Checkups.Execution;
using Checkups.Model;
using Checkups.Registry;
using Checkups.TestUtils;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;

namespace Checkups.Tests.Balancing;

public sealed class MaglevTests
{
    private static UpstreamOptions HashUpstream(IEnumerable<int> weights, int firstPort = 9000, int? tableSize = null)
    {
        var upstream = new UpstreamOptions { Mode = BalancingModes.Hash };
        upstream.Hash.TableSize = tableSize;
        int port = firstPort;
        foreach (int weight in weights)
        {
            upstream.Servers.Add(Upstreams.Server(port++, weight, maxFails: 1));
        }

        return upstream;
    }

    private static string Key(int i) => "key-" + i.ToString(CultureInfo.InvariantCulture);

    private static int[] Mapping(UpstreamRegistry registry, int keys) =>
        Enumerable.Range(0, keys).Select(i => registry.SelectPeer("api", Key(i)).Port).ToArray();

    [Property]
    public Property Table_AnyWeights_GivesEachServerItsWeightShareOfSlots()
    {
        var weights = Gen.Choose(1, 20).ArrayOf().Where(a => a.Length is >= 2 and <= 30);

        return Prop.ForAll(weights.ToArbitrary(), w =>
        {
            using var registry = Upstreams.Registry("api", HashUpstream(w, tableSize: 10007));
            var servers = registry.Get("api").Clusters[0].Servers;
            var table = MaglevTable.Build(servers, 10007);
            var counts = new int[w.Length];
            for (int slot = 0; slot < table.Length; slot++)
            {
                counts[table[slot]]++;
            }

            double total = w.Sum();
            for (int i = 0; i < w.Length; i++)
            {
                double ideal = table.Length * w[i] / total;

                // Whole rounds place exactly in proportion; only the last, partial round is uneven.
                if (Math.Abs(counts[i] - ideal) > Math.Max(2.0, 0.01 * ideal))
                {
                    return false.Label($"each server owns its weight share of slots (within 2 or 1 %): server {i} has {counts[i]}, ideally {ideal:F1}");
                }
            }

            return true.Label("each server owns its weight share of slots (within 2 or 1 %)");
        });
    }

    [Fact]
    public void Table_DefaultSize_IsPrimeAndAtLeastHundredSlotsPerServer()
    {
        // One size from 1 to 1000 servers, so adding or removing servers in that range never changes the table size.
        Assert.All(new[] { 1, 10, 99, 100, 101, 999, 1000 }, n => Assert.Equal(100003, MaglevTable.SizeFor(n)));
        Assert.Equal(200003, MaglevTable.SizeFor(1001));
        Assert.All(new[] { 100003, 200003, 400009, 800011, 1600033, 3200003, 6400013, 12800009 }, size => Assert.True(MaglevTable.IsPrime(size)));
        int large = MaglevTable.SizeFor(5000);
        Assert.True(large >= 500_000 && MaglevTable.IsPrime(large), large.ToString(CultureInfo.InvariantCulture));
    }

    [Property]
    public Property RemovingAServer_MovesItsKeysAndFewOthers()
    {
        // Stated bound: removing one of n servers moves at most 2% of all keys between two servers that both stay
        // (Maglev trades this small churn for even balance; the figure is measured in the bench report).
        var sizes = Gen.Choose(4, 40).SelectMany(n => Gen.Choose(0, n - 1).Select(removed => (n, removed)));

        return Prop.ForAll(sizes.ToArbitrary(), c =>
        {
            var (n, removed) = c;
            using var before = Upstreams.Registry("api", HashUpstream(Enumerable.Repeat(1, n)));
            var kept = HashUpstream(Enumerable.Repeat(1, n));
            kept.Servers.RemoveAt(removed);
            using var after = Upstreams.Registry("api", kept);
            var a = Mapping(before, 5_000);
            var b = Mapping(after, 5_000);
            int removedPort = 9000 + removed;
            int movedBetweenSurvivors = Enumerable.Range(0, a.Length).Count(i => a[i] != removedPort && a[i] != b[i]);
            bool orphansMoved = Enumerable.Range(0, a.Length).All(i => a[i] != removedPort || b[i] != removedPort);
            return orphansMoved.Label("every key of the removed server moves")
                .And((movedBetweenSurvivors <= 0.02 * a.Length).Label($"at most 2 % of keys move between servers that stay ({movedBetweenSurvivors} of {a.Length})"));
        });
    }

    [Property]
    public Property UnavailableServer_ItsKeysSpreadOverAtLeastHalfTheSurvivors_AndMoveDeterministically()
    {
        var sizes = Gen.Choose(4, 30).SelectMany(n => Gen.Choose(0, n - 1).Select(down => (n, down)));

        return Prop.ForAll(sizes.ToArbitrary(), c =>
        {
            var (n, down) = c;
            using var healthy = Upstreams.Registry("api", HashUpstream(Enumerable.Repeat(1, n)));
            var withDown = HashUpstream(Enumerable.Repeat(1, n));
            withDown.Servers[down].Down = true;
            using var degraded = Upstreams.Registry("api", withDown);
            var a = Mapping(healthy, 4_000);
            var b = Mapping(degraded, 4_000);
            int downPort = 9000 + down;
            var orphans = Enumerable.Range(0, a.Length).Where(i => a[i] == downPort).ToList();
            var receivers = orphans.Select(i => b[i]).Distinct().Count();
            bool othersStay = Enumerable.Range(0, a.Length).All(i => a[i] == downPort || a[i] == b[i]);
            bool deterministic = orphans.All(i => degraded.SelectPeer("api", Key(i)).Port == b[i]);
            return othersStay.Label("keys of the servers that are up stay where they were")
                .And(deterministic.Label("the down server's keys move the same way on every pick"))
                .And((!b.Contains(downPort)).Label("no key goes to the down server"))
                .And((receivers >= (n - 1 + 1) / 2).Label($"the down server's keys spread over at least half the others ({receivers} of {n - 1})"));
        });
    }

    [Fact]
    public void SelectPeer_KeysServerErr_MovesAndReturnsWhenItRecovers()
    {
        var time = new FakeTimeProvider();
        var upstream = HashUpstream(new[] { 1, 1, 1, 1 });
        using var registry = Upstreams.Registry("api", upstream, time);
        var home = registry.SelectPeer("api", "user-42");

        registry.ReportFailure("api", home.Host, home.Port);
        var moved = registry.SelectPeer("api", "user-42");
        Assert.NotEqual(home.Port, moved.Port);
        Assert.Equal(moved.Port, registry.SelectPeer("api", "user-42").Port);

        time.Advance(home.FailTimeout);
        Assert.Equal(home.Port, registry.SelectPeer("api", "user-42").Port);
    }

    [Fact]
    public async Task ExecuteAsync_KeysServerFails_RetriesOnAnotherServer()
    {
        using var registry = Upstreams.Registry("api", HashUpstream(new[] { 1, 1, 1 }));
        int home = registry.SelectPeer("api", "cart-7").Port;
        var calls = new List<int>();

        int served = await registry.ExecuteAsync<int>("api", (server, _) =>
        {
            calls.Add(server.Port);
            return server.Port == home ? throw new InvalidOperationException("down") : ValueTask.FromResult(server.Port);
        }, new ExecuteOptions { HashKey = "cart-7" });

        Assert.Equal(home, calls[0]);
        Assert.NotEqual(home, served);
    }

    [Fact]
    public void SelectPeer_NoKey_BalancesByWeightedRoundRobin()
    {
        using var registry = Upstreams.Registry("api", HashUpstream(new[] { 1, 2, 3 }));

        var ports = Enumerable.Range(0, 60).Select(_ => registry.SelectPeer("api").Port).ToList();

        Assert.Equal(new[] { 10, 20, 30 }, new[] { 9000, 9001, 9002 }.Select(p => ports.Count(x => x == p)));
    }

    [Fact]
    public void SelectPeer_SameKeyAsStringSpanOrBytes_SameServer()
    {
        using var registry = Upstreams.Registry("api", HashUpstream(Enumerable.Repeat(1, 20)));

        for (int i = 0; i < 200; i++)
        {
            string key = Key(i);
            int port = registry.SelectPeer("api", key).Port;
            Assert.Equal(port, registry.SelectPeer("api", key.AsSpan()).Port);
            Assert.Equal(port, registry.SelectPeer("api", System.Text.Encoding.UTF8.GetBytes(key).AsSpan()).Port);
        }
    }

    [Fact]
    public async Task BoundedLoad_OneHotKey_NoServerExceedsFactorTimesMean()
    {
        var upstream = HashUpstream(Enumerable.Repeat(1, 10));
        upstream.Hash.BalanceFactor = 1.25;
        using var registry = Upstreams.Registry("api", upstream);
        var gate = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = new ExecuteOptions { HashKey = "hot" };
        var inFlight = new Dictionary<int, int>();
        var calls = new List<Task<int>>();

        for (int call = 1; call <= 40; call++)
        {
            calls.Add(registry.ExecuteAsync<int>("api", (server, _) =>
            {
                inFlight[server.Port] = inFlight.GetValueOrDefault(server.Port) + 1;
                return new ValueTask<int>(gate.Task);
            }, options).AsTask());

            int cap = (int)Math.Ceiling(1.25 * call / 10);
            Assert.True(inFlight.Values.Max() <= cap, $"after {call} calls a server has {inFlight.Values.Max()} in flight (cap {cap})");
        }

        gate.SetResult(1);
        await Task.WhenAll(calls);
        Assert.All(registry.Get("api").Clusters[0].Servers, p => Assert.Equal(0, p.Health.InFlight));
    }

    [Fact]
    public async Task BoundedLoad_OnlyOneServerUsable_StillServesEveryCall()
    {
        var upstream = HashUpstream(Enumerable.Repeat(1, 10));
        upstream.Hash.BalanceFactor = 1.25;
        for (int i = 1; i < 10; i++)
        {
            upstream.Servers[i].Down = true;
        }

        using var registry = Upstreams.Registry("api", upstream);
        var gate = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = Enumerable.Range(0, 50)
            .Select(i => registry.ExecuteAsync<int>("api", (server, _) => new ValueTask<int>(gate.Task), new ExecuteOptions { HashKey = "k" + i }).AsTask())
            .ToList();

        Assert.Equal(50, registry.Get("api").Clusters[0].Servers[0].Health.InFlight);
        gate.SetResult(1);
        await Task.WhenAll(calls);
    }

    [Fact]
    public async Task BoundedLoad_CallsStartedBeforeAnUpdate_DoNotSkewTheNewSnapshot()
    {
        var upstream = HashUpstream(Enumerable.Repeat(1, 4));
        upstream.Hash.BalanceFactor = 1.25;
        using var registry = Upstreams.Registry("api", upstream);
        var gate = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = new ExecuteOptions { HashKey = "hot" };
        var early = Enumerable.Range(0, 8).Select(_ => registry.ExecuteAsync<int>("api", (_, _) => new ValueTask<int>(gate.Task), options).AsTask()).ToList();

        registry.Update("api", HashUpstreamWithFactor(4, 1.25));
        var inFlight = new Dictionary<int, int>();
        var late = new List<Task<int>>();
        for (int call = 1; call <= 8; call++)
        {
            late.Add(registry.ExecuteAsync<int>("api", (server, _) =>
            {
                inFlight[server.Port] = inFlight.GetValueOrDefault(server.Port) + 1;
                return new ValueTask<int>(gate.Task);
            }, options).AsTask());
            Assert.True(inFlight.Values.Max() <= (int)Math.Ceiling(1.25 * call / 4), $"call {call}: {string.Join(",", inFlight)}");
        }

        gate.SetResult(1);
        await Task.WhenAll(early.Concat(late));
        Assert.All(registry.Get("api").Clusters[0].Servers, p => Assert.Equal(0, p.Health.InFlight));
    }

    private static UpstreamOptions HashUpstreamWithFactor(int servers, double factor)
    {
        var upstream = HashUpstream(Enumerable.Repeat(1, servers));
        upstream.Hash.BalanceFactor = factor;
        return upstream;
    }

    [Fact]
    public async Task BoundedLoad_CallerCancels_ReleasesTheServer()
    {
        var upstream = HashUpstream(Enumerable.Repeat(1, 3));
        upstream.Hash.BalanceFactor = 1.5;
        using var registry = Upstreams.Registry("api", upstream);
        using var cts = new CancellationTokenSource();

        var call = registry.ExecuteAsync<int>("api", async (_, ct) =>
        {
            await new TaskCompletionSource().Task.WaitAsync(ct);
            return 0;
        }, new ExecuteOptions { HashKey = "k" }, cts.Token).AsTask();
        Assert.Equal(1, registry.Get("api").Clusters[0].Servers.Sum(p => p.Health.InFlight));

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);

        Assert.Equal(0, registry.Get("api").Clusters[0].Servers.Sum(p => p.Health.InFlight));
    }
}
