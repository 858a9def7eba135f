using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Registry;
using Checkups.Status;
using Checkups.TestUtils;

namespace Checkups.Consul.Tests;

/// <summary>Service instances and their checks (<c>/v1/health/service</c>) against a real Consul agent.</summary>
public sealed class ServiceHealthTests : IClassFixture<ConsulAgent>
{
    private readonly ConsulAgent _agent;

    public ServiceHealthTests(ConsulAgent agent) => _agent = agent;

    private ConsulOptions Options(string upstream, string service)
    {
        var options = new ConsulOptions { Upstream = upstream, Kind = ConsulWatchKind.ServiceHealth, Service = service, Wait = TimeSpan.FromSeconds(30) };
        options.Addresses.Add(_agent.Address);
        return options;
    }

    private static ServerStatus StatusOf(UpstreamRegistry registry, int port) =>
        registry.GetStatus().Upstreams["web"].Clusters.SelectMany(c => c.Servers).Single(s => s.Server.EndsWith(":" + port, StringComparison.Ordinal));

    private static HashSet<int> Picked(UpstreamRegistry registry, string upstream) =>
        Enumerable.Range(0, 20).Select(_ => registry.SelectPeer(upstream).Port).ToHashSet();

    [Fact]
    public async Task TtlCheck_PassingWarningCriticalPassing_IsUpUnstableDownUp()
    {
        using var registry = new UpstreamRegistry(new CheckupsOptions());
        await _agent.RegisterServiceAsync("web-1", "web", 8001);
        await _agent.RegisterServiceAsync("web-2", "web", 8002);
        await using var watch = new ConsulWatch(registry, Options("web", "web"));
        await watch.StartAsync();

        Assert.Equal(new HashSet<int> { 8001, 8002 }, Picked(registry, "web"));
        Assert.Equal(HealthStatus.Ok, StatusOf(registry, 8001).Status);

        await Applied.AfterAsync(registry, "web", () => _agent.SetCheckAsync("web-1-ttl", "warn"));
        var unstable = StatusOf(registry, 8001);
        Assert.Equal(HealthStatus.Unstable, unstable.Status);
        Assert.Contains("web-1 ttl", unstable.Message, StringComparison.Ordinal);
        Assert.Equal(new HashSet<int> { 8001, 8002 }, Picked(registry, "web"));

        await Applied.AfterAsync(registry, "web", () => _agent.SetCheckAsync("web-1-ttl", "fail"));
        Assert.Equal((HealthStatus.Err, "down"), (StatusOf(registry, 8001).Status, StatusOf(registry, 8001).Message));
        Assert.Equal(new HashSet<int> { 8002 }, Picked(registry, "web"));

        await Applied.AfterAsync(registry, "web", () => _agent.SetCheckAsync("web-1-ttl", "pass"));
        Assert.Equal(HealthStatus.Ok, StatusOf(registry, 8001).Status);
        Assert.Equal(new HashSet<int> { 8001, 8002 }, Picked(registry, "web"));
    }

    [Fact]
    public async Task Instances_TakeWeightFromTagOrWeights_ZoneFromMeta_AddressFromNodeWhenEmpty()
    {
        using var registry = new UpstreamRegistry(new CheckupsOptions());
        await _agent.RegisterServiceAsync("api-1", "api", 8001, tags: new[] { "weight=3" }, meta: new Dictionary<string, string> { ["zone"] = "z1" }, passingWeight: 7);
        await _agent.RegisterServiceAsync("api-2", "api", 8002, passingWeight: 2);
        await _agent.RegisterServiceAsync("api-3", "api", 8003, address: null);
        await using var watch = new ConsulWatch(registry, Options("api-pool", "api"));
        await watch.StartAsync();

        var servers = registry.Get("api-pool").Clusters[0].Servers.OrderBy(s => s.Port).ToList();
        Assert.Equal(new[] { 3, 2, 1 }, servers.Select(s => s.Weight));
        Assert.Equal(new[] { "z1", null, null }, servers.Select(s => s.Zone));
        Assert.All(servers, s => Assert.Equal("127.0.0.1", s.Host));
    }

    [Fact]
    public async Task Warning_CanCountAsDown()
    {
        using var registry = new UpstreamRegistry(new CheckupsOptions());
        await _agent.RegisterServiceAsync("strict-1", "strict", 8001);
        await _agent.RegisterServiceAsync("strict-2", "strict", 8002);
        await _agent.SetCheckAsync("strict-1-ttl", "warn");
        var options = Options("strict", "strict");
        options.WarningAs = ConsulWarningAs.Down;
        await using var watch = new ConsulWatch(registry, options);
        await watch.StartAsync();

        Assert.Equal(new HashSet<int> { 8002 }, Picked(registry, "strict"));
    }
}
