using System;
using System.Linq;
using System.Text;
using Checkups.Configuration;
using Checkups.Registry;
using Checkups.TestUtils;

namespace Checkups.Tests.Configuration;

public sealed class UpstreamJsonTests
{
    private static UpstreamJsonResult Read(string json, UpstreamOptions? template = null) => UpstreamJson.Read(Encoding.UTF8.GetBytes(json), template);

    [Fact]
    public void Read_SlardarServersBody_ReadsSeedNamesSecondsAndServersOnly()
    {
        var result = Read("""
            {"servers":[
              {"host":"10.0.5.108", "port": 4001},
              {"host":"10.0.5.109", "port": "4002", "weight": 3, "max_fails": 3, "fail_timeout": 30, "down": 1}]}
            """);

        Assert.Empty(result.Errors);
        Assert.True(result.ServersOnly);
        var servers = result.Upstream!.Servers;
        Assert.Equal(("10.0.5.108", 4001, 1), (servers[0].Host, servers[0].Port, servers[0].Weight));
        Assert.Equal(("10.0.5.109", 4002, 3, 3), (servers[1].Host, servers[1].Port, servers[1].Weight, servers[1].MaxFails));
        Assert.Equal(TimeSpan.FromSeconds(30), servers[1].FailTimeout);
        Assert.True(servers[1].Down);
        Assert.False(servers[0].Down);
    }

    [Fact]
    public void Read_ClusterArrayAndObject_AreLevelsAndNamedClusters()
    {
        var levels = Read("""{"mode":"wrr","try":3,"try_timeout":1.5,"cluster":[{"servers":[{"host":"a","port":1}]},{"servers":[{"host":"b","port":2}]}]}""");
        var named = Read("""{"clusters":{"c1":{"servers":[{"host":"a","port":1}]},"c2":{"servers":[{"host":"b","port":2}]}}}""");

        Assert.Empty(levels.Errors);
        Assert.False(levels.ServersOnly);
        Assert.Equal(new[] { "a", "b" }, levels.Upstream!.Clusters.Select(c => c.Servers[0].Host));
        Assert.Equal((3, TimeSpan.FromSeconds(1.5)), (levels.Upstream.Try, levels.Upstream.TryTimeout));
        Assert.Empty(named.Errors);
        Assert.True(named.ServersOnly);
        Assert.Equal(new[] { "c1", "c2" }, named.Upstream!.NamedClusters.Keys.Order());
        Assert.Equal(2, named.Upstream.NamedClusters["c2"].Servers[0].Port);
    }

    [Fact]
    public void Read_ToJsonOutput_RoundTripsEveryOption()
    {
        var upstream = Upstreams.WithLevels(new[] { Upstreams.Server(8001, weight: 5, maxFails: 2, failTimeoutSeconds: 3) }, new[] { Upstreams.Server(9001, down: true) });
        upstream.Mode = BalancingModes.Hash;
        upstream.Try = 4;
        upstream.TryTimeout = TimeSpan.FromMilliseconds(750);
        upstream.FailureStatuses.Add(500);
        upstream.Timeouts.Read = TimeSpan.FromSeconds(2);
        upstream.Clusters[0].Servers[0].Metadata["rack"] = "r1";
        upstream.Clusters[0].Servers[0].UnstableReason = "draining";

        var result = Read(upstream.ToJson());

        Assert.Empty(result.Errors);
        Assert.Equal(upstream.ToJson(), result.Upstream!.ToJson());
    }

    [Fact]
    public void Read_Template_GivesWhatTheJsonLeavesOutAndCollectionsAreReplaced()
    {
        var template = new UpstreamOptions { Mode = BalancingModes.LeastRequests, Try = 2 };
        template.FailureStatuses.Add(502);
        template.Servers.Add(Upstreams.Server(7000));

        var result = Read("""{"servers":[{"host":"127.0.0.1","port":8001}],"failure_statuses":[500,503],"try":null}""", template);

        Assert.Empty(result.Errors);
        var upstream = result.Upstream!;
        Assert.Equal((BalancingModes.LeastRequests, 2), (upstream.Mode, upstream.Try));
        Assert.Equal(new[] { 500, 503 }, upstream.FailureStatuses);
        Assert.Equal(new[] { 8001 }, upstream.Servers.Select(s => s.Port));
        Assert.Equal(new[] { 7000 }, template.Servers.Select(s => s.Port));
        Assert.Equal(new[] { 502 }, template.FailureStatuses);
    }

    [Fact]
    public void Read_BadFields_ReportsEveryOneWithItsPathAndNoUpstream()
    {
        var result = Read("""{"servers":[{"host":"a","port":"eighty","max_fail":3},{"host":"b","port":2,"down":"maybe"}],"try":"x","keepalive":20}""");

        Assert.Null(result.Upstream);
        Assert.Equal(
            new[] { "Servers:0:Port", "Servers:0:max_fail", "Servers:1:Down", "Try", "keepalive" },
            result.Errors.Select(e => e.Field).Order(StringComparer.Ordinal));
        Assert.Contains("did you mean MaxFails?", result.Errors.Single(e => e.Field == "Servers:0:max_fail").Message);
        Assert.Contains("'eighty'", result.Errors.Single(e => e.Field == "Servers:0:Port").Message);
    }

    [Theory]
    [InlineData("""{"servers": [""", "not valid JSON")]
    [InlineData("""[1, 2]""", "must be a JSON object (was an array)")]
    [InlineData("""{"try": 2, "Try": 3}""", "given twice")]
    [InlineData("""{"servers": [{"host": "a", "port": 1, "max_fails": 1, "MaxFails": 2}]}""", "given twice")]
    [InlineData("""{"servers": "a:1"}""", "must be a section, not a single value")]
    [InlineData("""{"servers": [{"host": "a", "port": {"n": 1}}]}""", "must be a single value, not a section")]
    [InlineData("""{"servers": [{"host": "a", "port": 1, "fail_timeout": 1e300}]}""", "seconds, or a time span")]
    [InlineData("""{"servers": [80]}""", "Servers:0 must be a section, not a single value (was '80')")]
    [InlineData("""{"cluster": [{"servers": [[{"host": "a"}]]}]}""", "Clusters:0:Servers:0 must be a server's options, not a list")]
    [InlineData("""{"servers": [{"host": "a", "port": 1, "metadata": {"a:b": "x"}}]}""", "not a usable key")]
    [InlineData("""{"servers": [{"host": "a", "port": 1, "metadata": "rack1"}]}""", "Servers:0:Metadata must be a section, not a single value")]
    [InlineData("""{"servers": [{"host": "a", "port": 1, "metadata": {"r": {"x": 1}}}]}""", "Servers:0:Metadata:r must be a single value, not a section")]
    public void Read_MalformedBody_IsAnErrorNotAnException(string json, string expected)
    {
        var result = Read(json);

        Assert.Null(result.Upstream);
        Assert.Contains(result.Errors, e => e.Message.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Read_ServerListsOfEveryKind_BoundAsTheKeysOfAConfigurationWouldBe()
    {
        // Server lists are read straight from the JSON (linear in their size); the rest through configuration keys. Both
        // must agree: the same upstream written with every spelling reads the same.
        var result = Read("""
            {"named_clusters": {"east": {"servers": [null, {"HOST": "a", "Port": 1, "max_fails": 2, "FailTimeout": "00:00:03",
                                                              "zone": "z1", "unstable_reason": "draining", "metadata": {"Rack": "r1", "n": 5, "b": true, "gone": null}}]},
                                "west": {"servers": []}}}
            """);

        Assert.Empty(result.Errors);
        var east = Assert.Single(result.Upstream!.NamedClusters["east"].Servers);
        Assert.Equal(("a", 1, 2, TimeSpan.FromSeconds(3), "z1", "draining"), (east.Host, east.Port, east.MaxFails, east.FailTimeout, east.Zone, east.UnstableReason));
        Assert.Equal(new[] { "Rack=r1", "b=true", "n=5" }, east.Metadata.Select(m => $"{m.Key}={m.Value}").Order(StringComparer.Ordinal));
        Assert.Empty(result.Upstream.NamedClusters["west"].Servers);
    }

    [Fact]
    public void Read_TenThousandServers_ReadWhole()
    {
        var json = new StringBuilder("{\"servers\":[");
        for (int i = 0; i < 10_000; i++)
        {
            json.Append(i == 0 ? "" : ",").Append(System.Globalization.CultureInfo.InvariantCulture, $"{{\"host\":\"10.0.{i / 250}.{i % 250 + 1}\",\"port\":{8000 + (i % 7)},\"weight\":{1 + (i % 5)}}}");
        }

        var result = Read(json.Append("]}").ToString());

        Assert.Empty(result.Errors);
        Assert.Equal(10_000, result.Upstream!.Servers.Count);
        Assert.Equal(("10.0.39.250", 8000 + (9_999 % 7), 5), (result.Upstream.Servers[^1].Host, result.Upstream.Servers[^1].Port, result.Upstream.Servers[^1].Weight));
    }

    [Fact]
    public void Read_ValueRulesAreTheRegistrys_AnInvalidPortIsRejectedOnApply()
    {
        var result = Read("""{"servers":[{"host":"127.0.0.1","port":70000}]}""");
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(Upstreams.Server(8001)));

        Assert.Empty(result.Errors);
        var error = Assert.Throws<CheckupsValidationException>(() => registry.Update("new", result.Upstream!));
        Assert.Contains("Servers:0:Port must be between 1 and 65535", error.Message);
    }

    [Fact]
    public void Read_TimeSpanText_IsATimeSpanAndANumberIsSeconds()
    {
        var result = Read("""{"servers":[{"host":"a","port":1,"fail_timeout":"00:00:05"}],"timeouts":{"read":2,"connect":"00:00:00.250"}}""");

        Assert.Empty(result.Errors);
        Assert.Equal(TimeSpan.FromSeconds(5), result.Upstream!.Servers[0].FailTimeout);
        Assert.Equal((TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(250)), (result.Upstream.Timeouts.Read, result.Upstream.Timeouts.Connect));
    }
}
