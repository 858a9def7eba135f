using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Registry;
using Checkups.TestUtils;
using Microsoft.Extensions.Logging.Testing;

namespace Checkups.Consul.Tests;

/// <summary>Slardar's format, the whole upstream in one key, against a real Consul agent.</summary>
public sealed class KvPerUpstreamTests : IClassFixture<ConsulAgent>
{
    private readonly ConsulAgent _agent;

    public KvPerUpstreamTests(ConsulAgent agent) => _agent = agent;

    private ConsulOptions Options(string upstream)
    {
        var options = new ConsulOptions { Upstream = upstream, Kind = ConsulWatchKind.KvPerUpstream, Wait = TimeSpan.FromSeconds(30) };
        options.Addresses.Add(_agent.Address);
        return options;
    }

    [Fact]
    public async Task ValidValue_IsAppliedWhole_AndAChangeFollows()
    {
        using var registry = new UpstreamRegistry(new CheckupsOptions());
        await _agent.PutAsync("upstreams/slardar", """
            {"mode": "wrr", "try": 3, "timeouts": {"read": 2},
             "servers": [{"host": "127.0.0.1", "port": 8001, "max_fails": 3, "fail_timeout": 30},
                         {"host": "127.0.0.1", "port": 8002}]}
            """);
        var options = Options("slardar");
        options.Template.Timeouts.Connect = TimeSpan.FromMilliseconds(300);
        await using var watch = new ConsulWatch(registry, options);
        await watch.StartAsync();

        var upstream = registry.Get("slardar");
        Assert.Equal("consul:slardar", registry.GetStatus().Upstreams["slardar"].Owner);
        Assert.Equal(new[] { 8001, 8002 }, upstream.Clusters[0].Servers.Select(s => s.Port));
        Assert.Equal((3, TimeSpan.FromSeconds(30)), (upstream.Clusters[0].Servers[0].MaxFails, upstream.Clusters[0].Servers[0].FailTimeout));
        Assert.Equal(3, upstream.Try);
        Assert.Equal((TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(300)), (upstream.Timeouts.Read, upstream.Timeouts.Connect));
        Assert.Equal(new Dictionary<int, int> { [8001] = 10, [8002] = 10 }, Picks.ByPort(registry, "slardar", 20));

        await Applied.AfterAsync(registry, "slardar", () => _agent.PutAsync("upstreams/slardar", """
            {"cluster": [{"servers": [{"host": "127.0.0.1", "port": 8001, "weight": 3}, {"host": "127.0.0.1", "port": 8002}]},
                         {"servers": [{"host": "127.0.0.1", "port": 9001}]}]}
            """));

        upstream = registry.Get("slardar");
        Assert.Equal(2, upstream.Clusters.Length);
        Assert.Equal(new[] { 9001 }, upstream.Clusters[1].Servers.Select(s => s.Port));
        Assert.Equal(new Dictionary<int, int> { [8001] = 75, [8002] = 25 }, Picks.ByPort(registry, "slardar", 100));
    }

    [Theory]
    [InlineData("""{"servers": [{"host": "127.0.0.1", "port": 8001}""", "not valid JSON")]
    [InlineData("""{"servers": [{"host": "127.0.0.1", "port": "eighty"}]}""", "Servers:0:Port must be a whole number")]
    [InlineData("""{"servers": [{"host": "127.0.0.1", "port": 8001, "max_fail": 2}]}""", "did you mean MaxFails?")]
    [InlineData("""{"mode": "wrr"}""", "no servers")]
    public async Task InvalidValue_IsRejectedWhole_AndTheLastGoodOneStays(string bad, string reason)
    {
        string name = "rejects" + Math.Abs(StringComparer.Ordinal.GetHashCode(bad));
        using var registry = new UpstreamRegistry(new CheckupsOptions());
        await _agent.PutAsync("upstreams/" + name, """{"servers": [{"host": "127.0.0.1", "port": 8001}]}""");
        var logs = new AwaitableLogCollector();
        await using var watch = new ConsulWatch(registry, Options(name), logger: new FakeLogger(logs, ConsulLog.Category));
        await watch.StartAsync();
        long version = registry.Get(name).Version;

        await _agent.PutAsync("upstreams/" + name, bad);
        await logs.WhenLoggedAsync(ConsulLog.EventIds.ValueRejected);

        Assert.Equal(version, registry.Get(name).Version);
        Assert.Equal(8001, registry.SelectPeer(name).Port);
        Assert.Contains(logs.GetSnapshot(), e => e.Id.Id == ConsulLog.EventIds.ValueRejected && e.Message.Contains(reason, StringComparison.Ordinal));
        Assert.Contains(reason, watch.LastError, StringComparison.Ordinal);

        await Applied.AfterAsync(registry, name, () => _agent.PutAsync("upstreams/" + name, """{"servers": [{"host": "127.0.0.1", "port": 8002}]}"""));
        Assert.Equal(8002, registry.SelectPeer(name).Port);
        Assert.Null(watch.LastError);
    }

    [Fact]
    public async Task ValueTheRegistryRejects_KeepsTheLastGoodOne()
    {
        using var registry = new UpstreamRegistry(new CheckupsOptions());
        await _agent.PutAsync("upstreams/ranges", """{"servers": [{"host": "127.0.0.1", "port": 8001}]}""");
        var logs = new AwaitableLogCollector();
        await using var watch = new ConsulWatch(registry, Options("ranges"), logger: new FakeLogger(logs, ConsulLog.Category));
        await watch.StartAsync();

        await _agent.PutAsync("upstreams/ranges", """{"servers": [{"host": "127.0.0.1", "port": 70000}]}""");
        await logs.WhenLoggedAsync(ConsulLog.EventIds.Rejected);

        Assert.Equal(8001, registry.SelectPeer("ranges").Port);
        Assert.Contains("rejected", watch.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_ShowsTheWatchsIndexSuccessAndError_NeverTheToken()
    {
        using var registry = new UpstreamRegistry(new CheckupsOptions());
        await _agent.PutAsync("upstreams/shown", """{"servers": [{"host": "127.0.0.1", "port": 8001}]}""");
        var options = Options("shown");
        options.Token = "5e1f0a3c-secret-token";
        await using var watch = new ConsulWatch(registry, options);
        await watch.StartAsync();

        string json = registry.GetStatus().ToJson();
        using var document = JsonDocument.Parse(json);
        var source = document.RootElement.GetProperty("sources").GetProperty("consul:shown");

        Assert.Equal("shown", source.GetProperty("upstreams")[0].GetString());
        Assert.Equal(watch.LastIndex.ToString(System.Globalization.CultureInfo.InvariantCulture), source.GetProperty("last_index").GetString());
        Assert.Equal(watch.LastSuccess, source.GetProperty("last_success").GetDateTimeOffset());
        Assert.Equal(JsonValueKind.Null, source.GetProperty("last_error").ValueKind);
        Assert.Equal("KvPerUpstream", source.GetProperty("kind").GetString());
        Assert.DoesNotContain("secret", json, StringComparison.Ordinal);
    }
}
