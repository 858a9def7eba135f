using System;
using System.Linq;
using Checkups.Balancing;
using Checkups.Configuration;
using Checkups.Registry;
using Checkups.TestUtils;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;

namespace Checkups.Tests.Balancing;

public sealed class LocalFirstTests
{
    /// <summary>Three zones of ten servers; z1 is the caller's. Ports 81xx are z1, 82xx z2, 83xx z3.</summary>
    private static UpstreamRegistry ThreeZones(int localDown, double panicThreshold = 0.2)
    {
        var upstream = new UpstreamOptions { Mode = BalancingModes.LocalFirst };
        upstream.LocalFirst.PanicThreshold = panicThreshold;
        for (int zone = 1; zone <= 3; zone++)
        {
            for (int i = 0; i < 10; i++)
            {
                var server = Upstreams.Server(8000 + (zone * 100) + i, down: zone == 1 && i < localDown);
                server.Zone = "z" + zone;
                upstream.Servers.Add(server);
            }
        }

        var options = new CheckupsOptions { LocalZone = "z1", PreferLocalAddresses = false };
        options.Upstreams.Add("api", upstream);
        return new UpstreamRegistry(options, new FakeTimeProvider(), null, RandomSource.Seeded(11));
    }

    private static double LocalShare(UpstreamRegistry registry, int picks = 20_000) =>
        Enumerable.Range(0, picks).Count(_ => registry.SelectPeer("api").Port / 100 == 81) / (double)picks;

    [Fact]
    public void Select_LocalZoneHealthy_KeepsEveryCallLocal()
    {
        using var registry = ThreeZones(localDown: 0);

        Assert.Equal(1.0, LocalShare(registry));
    }

    [Theory]
    [InlineData(3, 21.0 / 27)]
    [InlineData(5, 15.0 / 25)]
    [InlineData(7, 9.0 / 23)]
    public void Select_LocalCapacityShort_SpillsTheOverflowInProportion(int localDown, double expected)
    {
        using var registry = ThreeZones(localDown);

        Assert.InRange(LocalShare(registry), expected - 0.015, expected + 0.015);
    }

    [Fact]
    public void Select_BelowPanicThreshold_BalancesOverEveryServer()
    {
        using var registry = ThreeZones(localDown: 9, panicThreshold: 0.2);

        // One local server of ten is below 20 %: it gets only its share of all 21 selectable servers.
        Assert.InRange(LocalShare(registry), (1.0 / 21) - 0.01, (1.0 / 21) + 0.01);
    }

    [Fact]
    public void Select_AllLocalDown_GoesRemote()
    {
        using var registry = ThreeZones(localDown: 10);

        Assert.Equal(0.0, LocalShare(registry, 2_000));
    }

    [Property]
    public Property Select_AnyLocalHealth_ShareNeverRisesAsLocalServersFail()
    {
        return Prop.ForAll(Gen.Choose(0, 9).ToArbitrary(), down =>
        {
            using var fewer = ThreeZones(down);
            using var more = ThreeZones(down + 1);
            return (LocalShare(more, 4_000) <= LocalShare(fewer, 4_000) + 0.03)
                .Label("one more local server down never raises the local share (beyond 0.03 of sampling noise)");
        });
    }

    [Fact]
    public void LocalAddresses_LoopbackAndLocalhostAreLocal_DocumentationRangeIsNot()
    {
        Assert.True(LocalAddresses.Contains("127.0.0.1"));
        Assert.True(LocalAddresses.Contains("::1"));
        Assert.True(LocalAddresses.Contains("localhost"));
        Assert.False(LocalAddresses.Contains("192.0.2.10"));
        Assert.False(LocalAddresses.Contains("backend.example"));
    }

    [Fact]
    public void Validation_LocalModeWithoutAnyLocality_IsRejected()
    {
        var options = new CheckupsOptions { PreferLocalAddresses = false };
        options.Upstreams.Add("api", new UpstreamOptions { Mode = "local", Servers = { Upstreams.Server(8001) } });

        var error = Assert.Throws<CheckupsValidationException>(() => new UpstreamRegistry(options));

        Assert.Equal("Checkups:Upstreams:api:Mode local needs Checkups:LocalZone or Checkups:PreferLocalAddresses to tell which servers are local", Assert.Single(error.Errors));
    }
}
