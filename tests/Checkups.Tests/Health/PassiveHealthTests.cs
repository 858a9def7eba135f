using System;
using System.Linq;
using Checkups.Registry;
using Checkups.Status;
using Checkups.TestUtils;
using Microsoft.Extensions.Time.Testing;

namespace Checkups.Tests.Health;

public sealed class PassiveHealthTests
{
    private readonly FakeTimeProvider _time = new();

    private UpstreamRegistry TwoServers(int maxFails, double failTimeoutSeconds = 10) =>
        Upstreams.Registry(
            "api",
            Upstreams.WithServers(
                Upstreams.Server(8001, maxFails: maxFails, failTimeoutSeconds: failTimeoutSeconds),
                Upstreams.Server(8002, maxFails: maxFails, failTimeoutSeconds: failTimeoutSeconds)),
            _time);


    [Fact]
    public void Err_InOneUpstream_MovesOnlyThatUpstreamsEpoch_OthersKeepTheirCachedSchedules()
    {
        var options = new Checkups.Configuration.CheckupsOptions();
        options.Upstreams["a"] = Upstreams.WithServers(Upstreams.Server(8001, maxFails: 1), Upstreams.Server(8002, maxFails: 1));
        options.Upstreams["b"] = Upstreams.WithServers(Upstreams.Server(9001, maxFails: 1), Upstreams.Server(9002, maxFails: 1));
        using var registry = new UpstreamRegistry(options, _time);
        int a = registry.Get("a").HealthGate.SelectableEpoch;
        int b = registry.Get("b").HealthGate.SelectableEpoch;

        registry.ReportFailure("b", "127.0.0.1", 9001);
        registry.ReportSuccess("b", "127.0.0.1", 9001);

        Assert.Equal(a, registry.Get("a").HealthGate.SelectableEpoch);
        Assert.Equal(b + 2, registry.Get("b").HealthGate.SelectableEpoch);
        registry.Update("b", Upstreams.WithServers(Upstreams.Server(9001, maxFails: 1)));
        Assert.Same(registry.Get("b").HealthGate, registry.Get("b").Clusters[0].Servers[0].Health.Upstream);
    }

    [Fact]
    public void ReportFailure_MaxFailsWithinWindow_MarksErrAndStopsSelectingIt()
    {
        using var registry = TwoServers(maxFails: 3);

        registry.ReportFailure("api", "127.0.0.1", 8001);
        registry.ReportFailure("api", "127.0.0.1", 8001);
        Assert.Equal(HealthStatus.Unstable, Upstreams.StatusOf(registry, 8001).Status);
        Assert.Contains(8001, Enumerable.Range(0, 4).Select(_ => registry.SelectPeer("api").Port));

        registry.ReportFailure("api", "127.0.0.1", 8001);

        var status = Upstreams.StatusOf(registry, 8001);
        Assert.Equal(HealthStatus.Err, status.Status);
        Assert.Equal(3, status.FailCount);
        Assert.Equal("3 failures within 10s", status.Message);
        Assert.All(Enumerable.Range(0, 10), _ => Assert.Equal(8002, registry.SelectPeer("api").Port));
    }

    [Fact]
    public void ReportFailure_FailuresSpreadBeyondWindow_DoNotAddUp()
    {
        using var registry = TwoServers(maxFails: 2, failTimeoutSeconds: 10);

        registry.ReportFailure("api", "127.0.0.1", 8001);
        _time.Advance(TimeSpan.FromSeconds(11));
        registry.ReportFailure("api", "127.0.0.1", 8001);

        var status = Upstreams.StatusOf(registry, 8001);
        Assert.Equal(HealthStatus.Unstable, status.Status);
        Assert.Equal(1, status.FailCount);
    }

    [Fact]
    public void Err_AfterFailTimeout_ServerIsSelectableAgainWithLastModifiedAtExpiry()
    {
        using var registry = TwoServers(maxFails: 1, failTimeoutSeconds: 10);
        registry.ReportFailure("api", "127.0.0.1", 8001);
        var markedAt = _time.GetUtcNow();
        Assert.Equal(markedAt, Upstreams.StatusOf(registry, 8001).LastModified);

        _time.Advance(TimeSpan.FromSeconds(9.9));
        Assert.Equal(HealthStatus.Err, Upstreams.StatusOf(registry, 8001).Status);
        Assert.DoesNotContain(8001, Enumerable.Range(0, 4).Select(_ => registry.SelectPeer("api").Port));

        _time.Advance(TimeSpan.FromSeconds(0.1));
        var status = Upstreams.StatusOf(registry, 8001);
        Assert.Equal(HealthStatus.Ok, status.Status);
        Assert.Equal(markedAt + TimeSpan.FromSeconds(10), status.LastModified);
        Assert.Contains(8001, Enumerable.Range(0, 4).Select(_ => registry.SelectPeer("api").Port));
    }

    public static TheoryData<TimeSpan> Never() => new() { TimeSpan.MaxValue, System.Threading.Timeout.InfiniteTimeSpan };

    [Theory]
    [MemberData(nameof(Never))]
    public void FailTimeoutNever_ErrLastsUntilASuccess_AndTheWindowNeverCloses(TimeSpan never)
    {
        var server = Upstreams.Server(8001, maxFails: 2);
        server.FailTimeout = never;
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(server, Upstreams.Server(8002)), _time);

        registry.ReportFailure("api", "127.0.0.1", 8001);
        _time.Advance(TimeSpan.FromDays(3650));
        registry.ReportFailure("api", "127.0.0.1", 8001);
        Assert.Equal(HealthStatus.Err, Upstreams.StatusOf(registry, 8001).Status);
        Assert.Equal("2 failures within an unlimited fail timeout", Upstreams.StatusOf(registry, 8001).Message);

        _time.Advance(TimeSpan.FromDays(3650));
        Assert.Equal(HealthStatus.Err, Upstreams.StatusOf(registry, 8001).Status);
        Assert.All(Enumerable.Range(0, 6), _ => Assert.Equal(8002, registry.SelectPeer("api").Port));
        Assert.Equal(TimeSpan.MaxValue.TotalSeconds, Upstreams.StatusOf(registry, 8001).FailTimeout);

        registry.ReportSuccess("api", "127.0.0.1", 8001);
        Assert.Equal(HealthStatus.Ok, Upstreams.StatusOf(registry, 8001).Status);
    }

    [Fact]
    public void ReportFailure_MaxFailsZero_CountsNothing()
    {
        using var registry = TwoServers(maxFails: 0);

        for (int i = 0; i < 50; i++)
        {
            registry.ReportFailure("api", "127.0.0.1", 8001);
        }

        Assert.Equal(HealthStatus.Ok, Upstreams.StatusOf(registry, 8001).Status);
        Assert.Equal(0, Upstreams.StatusOf(registry, 8001).FailCount);
        Assert.Contains(8001, Enumerable.Range(0, 4).Select(_ => registry.SelectPeer("api").Port));
    }

    [Fact]
    public void ReportFailure_LastOkServer_IsNeverMarkedErr()
    {
        using var registry = TwoServers(maxFails: 1);
        registry.ReportFailure("api", "127.0.0.1", 8001);

        registry.ReportFailure("api", "127.0.0.1", 8002);
        registry.ReportFailure("api", "127.0.0.1", 8002);

        Assert.Equal(HealthStatus.Err, Upstreams.StatusOf(registry, 8001).Status);
        Assert.NotEqual(HealthStatus.Err, Upstreams.StatusOf(registry, 8002).Status);
        Assert.Equal(8002, registry.SelectPeer("api").Port);
    }

    [Fact]
    public void ReportFailure_LastOkServerAcrossLevels_CountsServersOfAllClusters()
    {
        var upstream = Upstreams.WithLevels(
            new[] { Upstreams.Server(8001, maxFails: 1) },
            new[] { Upstreams.Server(9001, maxFails: 1) });
        using var registry = Upstreams.Registry("api", upstream, _time);

        registry.ReportFailure("api", "127.0.0.1", 8001);

        Assert.Equal(HealthStatus.Err, Upstreams.StatusOf(registry, 8001).Status);
        Assert.Equal(9001, registry.SelectPeer("api").Port);
    }

    [Fact]
    public void ReportSuccess_AfterFailures_ClearsWindowAndErr()
    {
        using var registry = TwoServers(maxFails: 2);
        registry.ReportFailure("api", "127.0.0.1", 8001);
        registry.ReportFailure("api", "127.0.0.1", 8001);
        Assert.Equal(HealthStatus.Err, Upstreams.StatusOf(registry, 8001).Status);

        registry.ReportSuccess("api", "127.0.0.1", 8001);

        Assert.Equal(HealthStatus.Ok, Upstreams.StatusOf(registry, 8001).Status);
        Assert.Equal(0, Upstreams.StatusOf(registry, 8001).FailCount);
    }

    [Fact]
    public void ReportFailure_UnknownUpstream_ThrowsNamingIt()
    {
        using var registry = TwoServers(maxFails: 1);

        var error = Assert.Throws<UpstreamNotFoundException>(() => registry.ReportFailure("nope", "127.0.0.1", 8001));

        Assert.Equal("Upstream 'nope' is not defined.", error.Message);
    }

    [Fact]
    public void ReportFailure_UnknownServer_ThrowsNamingUpstreamAndServer()
    {
        using var registry = TwoServers(maxFails: 1);

        var error = Assert.Throws<ServerNotFoundException>(() => registry.ReportSuccess("api", "127.0.0.1", 9999));

        Assert.Equal("Upstream 'api' has no server 127.0.0.1:9999.", error.Message);
        Assert.Equal(9999, error.Port);
    }

    [Fact]
    public void ReportFailure_SameServerInTwoLevels_CountsOnce()
    {
        var upstream = Upstreams.WithLevels(
            new[] { Upstreams.Server(8001, maxFails: 2), Upstreams.Server(8002) },
            new[] { Upstreams.Server(8001, maxFails: 2) });
        using var registry = Upstreams.Registry("api", upstream, _time);

        registry.ReportFailure("api", "127.0.0.1", 8001);

        Assert.All(
            registry.GetStatus().Upstreams["api"].Clusters.SelectMany(c => c.Servers).Where(s => s.Server.EndsWith(":8001", StringComparison.Ordinal)),
            s => Assert.Equal(1, s.FailCount));
    }
}
