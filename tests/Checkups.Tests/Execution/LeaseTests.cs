using System;
using System.Linq;
using Checkups.Configuration;
using Checkups.Execution;
using Checkups.Model;
using Checkups.Registry;
using Checkups.Status;
using Checkups.TestUtils;
using Microsoft.Extensions.Time.Testing;

namespace Checkups.Tests.Execution;

public sealed class LeaseTests
{
    private readonly FakeTimeProvider _time = new();

    private UpstreamRegistry Registry(string mode, params ServerOptions[] servers)
    {
        var upstream = Upstreams.WithServers(servers);
        upstream.Mode = mode;
        return Upstreams.Registry("api", upstream, _time);
    }

    private static int InFlight(UpstreamRegistry registry, int port) =>
        registry.Get("api").Clusters.SelectMany(c => c.Servers).First(p => p.Port == port).Health.InFlight;

    [Fact]
    public void AcquireLease_LeastRequests_SeesCallsInFlightUntilCompleted()
    {
        using var registry = Registry(BalancingModes.LeastRequests, Upstreams.Server(8001), Upstreams.Server(8002));

        var first = registry.AcquireLease("api");
        var second = registry.AcquireLease("api");

        Assert.NotEqual(first.Server.Port, second.Server.Port);
        Assert.Equal((1, 1), (InFlight(registry, 8001), InFlight(registry, 8002)));
        first.Complete(LeaseOutcome.Success);
        Assert.Equal(0, InFlight(registry, first.Server.Port));
        Assert.Equal(first.Server.Port, registry.AcquireLease("api").Server.Port);
    }

    [Fact]
    public void Complete_Twice_OrThroughACopy_Throws_AndCountsOnce()
    {
        using var registry = Registry(BalancingModes.LeastRequests, Upstreams.Server(8001, maxFails: 2));
        var lease = registry.AcquireLease("api");
        var copy = lease;

        lease.Complete(LeaseOutcome.Failure);

        Assert.True(copy.IsCompleted);
        Assert.Throws<InvalidOperationException>(() => copy.Complete(LeaseOutcome.Failure));
        Assert.Throws<InvalidOperationException>(() => lease.Complete(LeaseOutcome.Success));
        Assert.Equal(0, InFlight(registry, 8001));
        Assert.Equal(1, Upstreams.StatusOf(registry, 8001).FailCount);
        Assert.Throws<InvalidOperationException>(() => default(UpstreamLease).Complete(LeaseOutcome.Success));
    }

    [Fact]
    public void Complete_Failure_FeedsPassiveHealth_AsTheTryLoopDoes()
    {
        using var registry = Registry(BalancingModes.WeightedRoundRobin, Upstreams.Server(8001, maxFails: 1), Upstreams.Server(8002));
        var lease = registry.AcquireLease("api");
        Assert.Equal(8001, lease.Server.Port);

        lease.Complete(LeaseOutcome.Failure);

        Assert.Equal(HealthStatus.Err, Upstreams.StatusOf(registry, 8001).Status);
        Assert.All(Enumerable.Range(0, 4), _ => Assert.Equal(8002, registry.SelectPeer("api").Port));
    }

    [Fact]
    public void Complete_Cancelled_ReleasesTheServer_ButCountsNoFailure()
    {
        using var registry = Registry(BalancingModes.LeastRequests, Upstreams.Server(8001, maxFails: 1), Upstreams.Server(8002));
        var lease = registry.AcquireLease("api");

        lease.Complete(LeaseOutcome.Cancelled);

        Assert.Equal(0, InFlight(registry, lease.Server.Port));
        Assert.Equal(0, Upstreams.StatusOf(registry, lease.Server.Port).FailCount);
    }

    [Fact]
    public void AcquireLease_WithServersTried_PicksAnotherThenTheNextLevel()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithLevels(new[] { Upstreams.Server(8001), Upstreams.Server(8002) }, new[] { Upstreams.Server(9001) }), _time);
        var first = registry.AcquireLease("api");
        first.Complete(LeaseOutcome.Failure);

        var second = registry.AcquireLease("api", tried: new[] { first.Server });
        second.Complete(LeaseOutcome.Failure);
        var third = registry.AcquireLease("api", tried: new[] { first.Server, second.Server });
        third.Complete(LeaseOutcome.Failure);

        Assert.Equal(new[] { 8001, 8002, 9001 }, new[] { first.Server.Port, second.Server.Port, third.Server.Port }.Order());
        Assert.Equal(9001, third.Server.Port);
        var error = Assert.Throws<NoServerAvailableException>(() => registry.AcquireLease("api", tried: new[] { first.Server, second.Server, third.Server }));
        Assert.Contains("no selectable server left after 3 tried", error.Message, StringComparison.Ordinal);
        Assert.Equal(CallStopReason.EveryServerTried, error.Reason);
    }

    [Fact]
    public void AcquireLease_TriedServerFromAnOlderSnapshot_IsStillSkipped()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(Upstreams.Server(8001), Upstreams.Server(8002)), _time);
        var first = registry.AcquireLease("api");
        first.Complete(LeaseOutcome.Failure);

        registry.UpdateServers("api", new[] { Upstreams.Server(8001), Upstreams.Server(8002), Upstreams.Server(8003) });

        Assert.All(Enumerable.Range(0, 6), _ =>
        {
            var retry = registry.AcquireLease("api", tried: new[] { first.Server });
            Assert.NotEqual(first.Server.Port, retry.Server.Port);
            retry.Complete(LeaseOutcome.Success);
        });
    }

    [Fact]
    public void Complete_WithElapsed_FeedsTheFastestModesLatency()
    {
        using var registry = Registry(BalancingModes.Fastest, Upstreams.Server(8001), Upstreams.Server(8002));
        for (int i = 0; i < 10; i++)
        {
            var lease = registry.AcquireLease("api");
            lease.Complete(LeaseOutcome.Success, lease.Server.Port == 8001 ? TimeSpan.FromMilliseconds(500) : TimeSpan.FromMilliseconds(5));
        }

        var servers = registry.Get("api").Clusters[0].Servers;
        long now = _time.GetTimestamp();
        double decay = 10 * _time.TimestampFrequency;
        Assert.True(servers[0].Health.Latency.TryRead(now, decay, out double slow));
        Assert.True(servers[1].Health.Latency.TryRead(now, decay, out double fast));
        Assert.True(slow > 10 * fast, $"{slow} vs {fast}");
        Assert.All(Enumerable.Range(0, 20), _ =>
        {
            var lease = registry.AcquireLease("api");
            Assert.Equal(8002, lease.Server.Port);
            lease.Complete(LeaseOutcome.Success, TimeSpan.FromMilliseconds(5));
        });
    }

    [Fact]
    public void AcquireAndComplete_AllocateNothing()
    {
        using var registry = Registry(BalancingModes.WeightedRoundRobin, Enumerable.Range(0, 10).Select(i => Upstreams.Server(8001 + i)).ToArray());
        for (int i = 0; i < 1000; i++)
        {
            registry.AcquireLease("api", "".AsSpan()).Complete(LeaseOutcome.Success);
        }

        const int Leases = 100_000;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Leases; i++)
        {
            registry.AcquireLease("api", "".AsSpan()).Complete(LeaseOutcome.Success);
        }

        // Less than a byte per lease: no lease allocates (the smallest object is 24 bytes). The runtime may allocate once
        // on this thread meanwhile (tiering, type loading); that is not the code under test.
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < Leases, $"{allocated} bytes for {Leases} leases");
    }

    [Fact]
    public void Upstream_ExposesItsOptionsReadOnly()
    {
        var upstream = Upstreams.WithServers(Upstreams.Server(8001));
        upstream.Mode = BalancingModes.HeaderHash;
        upstream.Hash.Header = "X-User";
        upstream.FailureStatuses.Add(500);
        upstream.Timeouts.Read = TimeSpan.FromSeconds(2);
        using var registry = Upstreams.Registry("api", upstream, _time);
        var snapshot = registry.Get("api");

        var copy = snapshot.GetOptions();
        copy.Hash.Header = "X-Other";
        copy.Servers.Clear();

        Assert.Equal("X-User", snapshot.HashHeader);
        Assert.Equal(new[] { 500 }, snapshot.FailureStatuses);
        Assert.Equal(TimeSpan.FromSeconds(2), snapshot.Timeouts.Read);
        Assert.Equal("X-User", snapshot.GetOptions().Hash.Header);
        Assert.Single(snapshot.GetOptions().Servers);
        Assert.Equal(new[] { 502, 503, 504 }, Upstreams.Registry("plain", Upstreams.WithServers(Upstreams.Server(8001)), _time).Get("plain").FailureStatuses.Order());
    }
}
