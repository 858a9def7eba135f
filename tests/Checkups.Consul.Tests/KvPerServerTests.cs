using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Registry;
using Checkups.TestUtils;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Checkups.Consul.Tests;

/// <summary>The nginx-upsync-module KV format against a real Consul agent.</summary>
public sealed class KvPerServerTests : IClassFixture<ConsulAgent>
{
    private readonly ConsulAgent _agent;

    public KvPerServerTests(ConsulAgent agent) => _agent = agent;

    private static UpstreamRegistry EmptyRegistry() => new(new CheckupsOptions());

    private ConsulOptions Options(string upstream)
    {
        var options = new ConsulOptions { Upstream = upstream, Wait = TimeSpan.FromSeconds(30) };
        options.Addresses.Add(_agent.Address);
        return options;
    }

    [Fact]
    public async Task Put_Weight_Down_Delete_FollowConsul()
    {
        using var registry = EmptyRegistry();
        await _agent.PutAsync("upstreams/life/127.0.0.1:8001", "");
        await using var watch = new ConsulWatch(registry, Options("life"));
        await watch.StartAsync();

        Assert.Equal(new[] { 8001 }, registry.Get("life").Clusters[0].Servers.Select(s => s.Port));
        Assert.Equal("consul:life", registry.GetStatus().Upstreams["life"].Owner);

        await Applied.AfterAsync(registry, "life", () => _agent.PutAsync("upstreams/life/127.0.0.1:8002", """{"weight": 3}"""));
        Assert.Equal(new Dictionary<int, int> { [8001] = 25, [8002] = 75 }, Picks.ByPort(registry, "life", 100));

        await Applied.AfterAsync(registry, "life", () => _agent.PutAsync("upstreams/life/127.0.0.1:8002", """{"weight": "1"}"""));
        Assert.Equal(new Dictionary<int, int> { [8001] = 50, [8002] = 50 }, Picks.ByPort(registry, "life", 100));

        await Applied.AfterAsync(registry, "life", () => _agent.PutAsync("upstreams/life/127.0.0.1:8001", """{"down": 1}"""));
        Assert.Equal(new Dictionary<int, int> { [8002] = 20 }, Picks.ByPort(registry, "life", 20));

        await Applied.AfterAsync(registry, "life", () => _agent.DeleteAsync("upstreams/life/127.0.0.1:8001"));
        Assert.Equal(new[] { 8002 }, registry.Get("life").Clusters[0].Servers.Select(s => s.Port));
        Assert.NotEqual(0UL, watch.LastIndex);
        Assert.Null(watch.LastError);
    }

    [Fact]
    public async Task WeightChange_UnderConsistentHashing_ChangesTheTableAtOnce()
    {
        using var registry = EmptyRegistry();
        await _agent.PutAsync("upstreams/hashed/127.0.0.1:8001", "");
        await _agent.PutAsync("upstreams/hashed/127.0.0.1:8002", "");
        var options = Options("hashed");
        options.Template.Mode = BalancingModes.UrlHash;
        await using var watch = new ConsulWatch(registry, options);
        await watch.StartAsync();
        var keys = Enumerable.Range(0, 2000).Select(i => "/item/" + i).ToList();
        int Share8002() => keys.Count(key => registry.SelectPeer("hashed", key)!.Port == 8002);
        int before = Share8002();

        await Applied.AfterAsync(registry, "hashed", () => _agent.PutAsync("upstreams/hashed/127.0.0.1:8002", """{"weight": 4}"""));

        // Equal weights: about half the keys; weight 4 of 5: about four fifths (upsync needs a restart for this).
        Assert.InRange(before, 800, 1200);
        Assert.InRange(Share8002(), 1450, 1750);
    }

    [Fact]
    public async Task Backup_GoesToLevelTwo()
    {
        using var registry = EmptyRegistry();
        await _agent.PutAsync("upstreams/levels/127.0.0.1:8001", "{}");
        await _agent.PutAsync("upstreams/levels/127.0.0.1:9001", """{"backup": 1}""");
        await using var watch = new ConsulWatch(registry, Options("levels"));
        await watch.StartAsync();

        var clusters = registry.Get("levels").Clusters;
        Assert.Equal(2, clusters.Length);
        Assert.Equal(new[] { 8001 }, clusters[0].Servers.Select(s => s.Port));
        Assert.Equal(new[] { 9001 }, clusters[1].Servers.Select(s => s.Port));
    }

    [Fact]
    public async Task MalformedValues_DefaultsWithWarningsNamingKeyAndField()
    {
        using var registry = EmptyRegistry();
        await _agent.PutAsync("upstreams/sloppy/127.0.0.1:8001", """{"weight": "heavy", "max_fails": 3}""");
        await _agent.PutAsync("upstreams/sloppy/127.0.0.1:8002", "not json");
        await _agent.PutAsync("upstreams/sloppy/not-a-server", "{}");
        var logs = new FakeLogCollector();
        await using var watch = new ConsulWatch(registry, Options("sloppy"), logger: new FakeLogger(logs, ConsulLog.Category));
        await watch.StartAsync();

        var servers = registry.Get("sloppy").Clusters[0].Servers;
        Assert.Equal(new[] { 8001, 8002 }, servers.Select(s => s.Port));
        Assert.All(servers, s => Assert.Equal(1, s.Weight));
        Assert.Equal(3, servers[0].MaxFails);
        Assert.Equal(2, servers[1].MaxFails);
        var warnings = logs.GetSnapshot().Where(e => e.Id.Id == ConsulLog.EventIds.ValueWarning).Select(e => e.Message).ToList();
        Assert.Contains(warnings, w => w.Contains("upstreams/sloppy/127.0.0.1:8001", StringComparison.Ordinal) && w.Contains("'weight'", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("upstreams/sloppy/127.0.0.1:8002", StringComparison.Ordinal) && w.Contains("not JSON", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("not-a-server", StringComparison.Ordinal) && w.Contains("skipped", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EmptyList_KeepsTheLastGoodOneUnlessAllowed()
    {
        using var registry = EmptyRegistry();
        await _agent.PutAsync("upstreams/emptied/127.0.0.1:8001", "");
        var logs = new AwaitableLogCollector();
        await using var watch = new ConsulWatch(registry, Options("emptied"), logger: new FakeLogger(logs, ConsulLog.Category));
        await watch.StartAsync();

        await _agent.DeleteAsync("upstreams/emptied/127.0.0.1:8001");
        await logs.WhenLoggedAsync(ConsulLog.EventIds.EmptyKept);

        Assert.Contains(logs.GetSnapshot(), e => e.Id.Id == ConsulLog.EventIds.EmptyKept);
        Assert.Equal(new[] { 8001 }, registry.Get("emptied").Clusters[0].Servers.Select(s => s.Port));
    }

    [Fact]
    public async Task Options_OutOfRange_ThrowNamingEachValue()
    {
        using var registry = EmptyRegistry();
        var options = new ConsulOptions { Wait = TimeSpan.FromMinutes(11), MaxResponseBytes = 10 };
        options.Addresses.Add("ftp://x");

        var error = Assert.Throws<ArgumentException>(() => new ConsulWatch(registry, options));

        Assert.Contains("Upstream is required", error.Message);
        Assert.Contains("Wait must be", error.Message);
        Assert.Contains("MaxResponseBytes", error.Message);
        Assert.Contains("ftp://x", error.Message);
        await Task.CompletedTask;
    }
}
