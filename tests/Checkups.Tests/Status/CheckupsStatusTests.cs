using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using System.Threading;
using Checkups.Configuration;
using Checkups.Execution;
using Checkups.Registry;
using Checkups.Sources;
using Checkups.Status;
using Checkups.TestUtils;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.Time.Testing;

namespace Checkups.Tests.Status;

public sealed class CheckupsStatusTests
{
    [Fact]
    public void ToJson_TwoLevels_WritesSeedShapeWithEveryField()
    {
        var time = new FakeTimeProvider();
        var upstream = Upstreams.WithLevels(
            new[] { Upstreams.Server(8001, weight: 3, maxFails: 1, failTimeoutSeconds: 30), Upstreams.Server(8002) },
            new[] { Upstreams.Server(9001) });
        using var registry = Upstreams.Registry("node-dev", upstream, time);
        time.Advance(TimeSpan.FromSeconds(5));
        registry.ReportFailure("node-dev", "127.0.0.1", 8001);

        using var json = JsonDocument.Parse(registry.GetStatus().ToJson());
        var root = json.RootElement;

        var levels = root.GetProperty("cls:node-dev");
        Assert.Equal(2, levels.GetArrayLength());
        Assert.Equal(2, levels[0].GetArrayLength());
        Assert.Equal(1, levels[1].GetArrayLength());
        var failed = levels[0][0];
        Assert.Equal("node-dev:127.0.0.1:8001", failed.GetProperty("server").GetString());
        Assert.Equal("err", failed.GetProperty("status").GetString());
        Assert.Equal("1 failure within 30s", failed.GetProperty("msg").GetString());
        Assert.Equal(time.GetUtcNow(), failed.GetProperty("lastmodified").GetDateTimeOffset());
        Assert.Equal(1, failed.GetProperty("fail_num").GetInt32());
        Assert.Equal(3, failed.GetProperty("weight").GetInt32());
        Assert.Equal(1, failed.GetProperty("max_fails").GetInt32());
        Assert.Equal(30, failed.GetProperty("fail_timeout").GetDouble());
        var healthy = levels[1][0];
        Assert.Equal("ok", healthy.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, healthy.GetProperty("msg").ValueKind);

        Assert.Equal(JsonValueKind.Null, root.GetProperty("last_check_time").ValueKind);
        Assert.False(root.GetProperty("checkup_timer_alive").GetBoolean());
        Assert.Equal(time.GetUtcNow() - TimeSpan.FromSeconds(5), root.GetProperty("start_time").GetDateTimeOffset());
        Assert.Equal(1, root.GetProperty("config_version").GetInt64());
        Assert.Equal(1, root.GetProperty("shd_config_version").GetInt64());
        Assert.Matches("^[0-9a-f]{16}$", root.GetProperty("conf_hash").GetString());
    }

    [Fact]
    public void ToJson_TopLevel_HasEveryKeyOfLuaGetStatus_ButTheConfigTimer()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(Upstreams.Server(8001)));
        using var json = JsonDocument.Parse(registry.GetStatus().ToJson());

        // lua-resty-checkups' get_status(); config_timer (each nginx worker's shared-dict poller) has no counterpart: see
        // docs/migrating.md.
        foreach (string key in new[] { "cls:api", "last_check_time", "checkup_timer_alive", "start_time", "conf_hash", "shd_config_version" })
        {
            Assert.True(json.RootElement.TryGetProperty(key, out _), key);
        }
    }

    [Fact]
    public void ConfigHash_SameConfigurationInTwoRegistries_IsEqual_AndAnyChangeMovesIt()
    {
        using var first = Upstreams.Registry("api", Upstreams.WithServers(Upstreams.Server(8001), Upstreams.Server(8002)));
        using var second = Upstreams.Registry("api", Upstreams.WithServers(Upstreams.Server(8001), Upstreams.Server(8002)));
        string before = first.GetStatus().ConfigHash;

        Assert.Equal(before, second.GetStatus().ConfigHash);

        // Health and traffic are not configuration.
        first.ReportFailure("api", "127.0.0.1", 8001);
        Assert.Equal(before, first.GetStatus().ConfigHash);

        second.Update("api", Upstreams.WithServers(Upstreams.Server(8001), Upstreams.Server(8002, weight: 2)));
        Assert.NotEqual(before, second.GetStatus().ConfigHash);
    }

    [Fact]
    public void GetStatus_LeasesHeld_ReportsInFlightUntilCompleted()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(Upstreams.Server(8001)));
        var first = registry.AcquireLease("api");
        var second = registry.AcquireLease("api");

        Assert.Equal(2, registry.GetStatus().Upstreams["api"].Clusters[0].Servers[0].InFlight);
        using (var json = JsonDocument.Parse(registry.GetStatus().ToJson()))
        {
            Assert.Equal(2, json.RootElement.GetProperty("cls:api")[0][0].GetProperty("in_flight").GetInt32());
        }

        first.Complete(LeaseOutcome.Success);
        second.Complete(LeaseOutcome.Cancelled);
        Assert.Equal(0, registry.GetStatus().Upstreams["api"].Clusters[0].Servers[0].InFlight);
    }

    [Fact]
    public void GetStatus_LeasesCompletedWithElapsed_ReportRecentLatency()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(Upstreams.Server(8001)));
        Assert.Null(Upstreams.StatusOf(registry, 8001).LatencyMs);

        registry.AcquireLease("api").Complete(LeaseOutcome.Success, TimeSpan.FromMilliseconds(80));
        Assert.Equal(80, Upstreams.StatusOf(registry, 8001).LatencyMs!.Value, 1);
        for (int i = 0; i < 100; i++)
        {
            registry.AcquireLease("api").Complete(LeaseOutcome.Success, TimeSpan.FromMilliseconds(8));
        }

        registry.AcquireLease("api").Complete(LeaseOutcome.Failure, TimeSpan.FromSeconds(5));
        Assert.Equal(8, Upstreams.StatusOf(registry, 8001).LatencyMs!.Value, 0);
        using var json = JsonDocument.Parse(registry.GetStatus().ToJson());
        Assert.Equal(8, json.RootElement.GetProperty("cls:api")[0][0].GetProperty("latency_ms").GetDouble(), 0);
    }

    [Fact]
    public void GetStatus_ServerUnstableBySource_IsSelectableAndReportedUnstableWithItsReason()
    {
        var flagged = Upstreams.Server(8002);
        flagged.UnstableReason = "Consul check 'ttl' is warning";
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(Upstreams.Server(8001), flagged));

        var ports = Enumerable.Range(0, 4).Select(_ => registry.SelectPeer("api").Port).ToHashSet();
        var status = Upstreams.StatusOf(registry, 8002);

        Assert.Contains(8002, ports);
        Assert.Equal((HealthStatus.Unstable, "Consul check 'ttl' is warning"), (status.Status, status.Message));
        Assert.Equal(HealthStatus.Ok, Upstreams.StatusOf(registry, 8001).Status);
        registry.Update("api", Upstreams.WithServers(Upstreams.Server(8001), Upstreams.Server(8002)));
        Assert.Equal(HealthStatus.Ok, Upstreams.StatusOf(registry, 8002).Status);
    }

    [Fact]
    public void GetStatus_AttachedSources_ListsEachWithItsUpstreamsAndReportedState()
    {
        var options = new CheckupsOptions();
        using var registry = new UpstreamRegistry(options, new FakeTimeProvider());
        var at = new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);
        var reporting = new ReportingSource("feed", "api", new SourceStatus(at, "timed out", new Dictionary<string, string> { ["last_index"] = "42" }));
        var silent = new FixedSource("plain", "web");
        using var first = registry.AddSource(reporting);
        using var second = registry.AddSource(silent);

        var status = registry.GetStatus();
        using var json = JsonDocument.Parse(status.ToJson());
        var feed = json.RootElement.GetProperty("sources").GetProperty("feed");

        Assert.Equal(new[] { "api" }, status.Sources["feed"].Upstreams);
        Assert.Equal((at, "timed out"), (status.Sources["feed"].Status!.LastSuccess, status.Sources["feed"].Status!.LastError));
        Assert.Null(status.Sources["plain"].Status);
        Assert.Equal("api", feed.GetProperty("upstreams")[0].GetString());
        Assert.Equal(at, feed.GetProperty("last_success").GetDateTimeOffset());
        Assert.Equal("timed out", feed.GetProperty("last_error").GetString());
        Assert.Equal("42", feed.GetProperty("last_index").GetString());
        Assert.False(json.RootElement.GetProperty("sources").GetProperty("plain").TryGetProperty("last_error", out _));
    }

    /// <summary>A source holding one upstream that reports nothing of its feed.</summary>
    private class FixedSource(string name, string upstream) : IUpstreamSource
    {
        public string Name { get; } = name;

        public UpstreamSourceSnapshot GetSnapshot() => new(
            new Dictionary<string, UpstreamOptions> { [upstream] = Upstreams.WithServers(Upstreams.Server(8001)) },
            new CancellationChangeToken(CancellationToken.None));
    }

    /// <summary>A source holding one upstream that reports a fixed state.</summary>
    private sealed class ReportingSource(string name, string upstream, SourceStatus state) : FixedSource(name, upstream), IUpstreamSourceStatus
    {
        public SourceStatus GetSourceStatus() => state;
    }

    [Fact]
    public void ToJson_NamedClusters_WritesAnObjectKeyedByClusterName_AsLuaDoes()
    {
        var upstream = new UpstreamOptions();
        upstream.NamedClusters["c1"] = new ClusterOptions { Servers = { Upstreams.Server(8001), Upstreams.Server(8002) } };
        upstream.NamedClusters["c2"] = new ClusterOptions { Servers = { Upstreams.Server(9001) } };
        using var registry = Upstreams.Registry("geo", upstream);

        var status = registry.GetStatus();
        using var json = JsonDocument.Parse(status.ToJson());

        var clusters = json.RootElement.GetProperty("cls:geo");
        Assert.Equal(JsonValueKind.Object, clusters.ValueKind);
        Assert.Equal(2, clusters.GetProperty("c1").GetArrayLength());
        Assert.Equal("geo:127.0.0.1:9001", clusters.GetProperty("c2")[0].GetProperty("server").GetString());
        Assert.True(status.Upstreams["geo"].HasNamedClusters);
    }

    [Fact]
    public void ToJson_HeartbeatOffForUpstream_ReportsUnchecked()
    {
        var upstream = Upstreams.WithServers(Upstreams.Server(8001));
        upstream.Heartbeat.Enabled = false;
        using var registry = Upstreams.Registry("api", upstream);

        using var json = JsonDocument.Parse(registry.GetStatus().ToJson(indented: true));

        Assert.Equal("unchecked", json.RootElement.GetProperty("cls:api")[0][0].GetProperty("status").GetString());
    }

    [Fact]
    public void JsonSerializer_UsesSameShape()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(Upstreams.Server(8001)));
        var status = registry.GetStatus();

        Assert.Equal(status.ToJson(), JsonSerializer.Serialize(status));
    }

    [Fact]
    public void GetStatus_DownServer_IsErrWithMessage()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(Upstreams.Server(8001), Upstreams.Server(8002, down: true)));

        var server = registry.GetStatus().Upstreams["api"].Clusters[0].Servers[1];

        Assert.Equal("err", server.Status);
        Assert.Equal("down", server.Message);
    }
}
