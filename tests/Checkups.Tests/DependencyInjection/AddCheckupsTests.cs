using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Diagnostics;
using Checkups.Registry;
using Checkups.TestUtils;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Checkups.Tests.DependencyInjection;

public sealed class AddCheckupsTests
{
    private static readonly Dictionary<string, string?> Valid = new()
    {
        ["Checkups:HeartbeatInterval"] = "00:00:02",
        ["Checkups:Upstreams:api:Mode"] = "wrr",
        ["Checkups:Upstreams:api:Try"] = "4",
        ["Checkups:Upstreams:api:TryTimeout"] = "00:00:03",
        ["Checkups:Upstreams:api:Timeouts:Connect"] = "00:00:01",
        ["Checkups:Upstreams:api:Clusters:0:Servers:0:Host"] = "127.0.0.1",
        ["Checkups:Upstreams:api:Clusters:0:Servers:0:Port"] = "8001",
        ["Checkups:Upstreams:api:Clusters:0:Servers:0:Weight"] = "3",
        ["Checkups:Upstreams:api:Clusters:0:Servers:0:MaxFails"] = "2",
        ["Checkups:Upstreams:api:Clusters:0:Servers:0:FailTimeout"] = "00:00:30",
        ["Checkups:Upstreams:api:Clusters:0:Servers:0:Zone"] = "z1",
        ["Checkups:Upstreams:api:Clusters:0:Servers:0:Metadata:rack"] = "r7",
        ["Checkups:Upstreams:api:Clusters:1:Servers:0:Host"] = "127.0.0.1",
        ["Checkups:Upstreams:api:Clusters:1:Servers:0:Port"] = "9001",
        ["Checkups:LocalZone"] = "z1",
        ["Checkups:Upstreams:geo:Mode"] = "hash",
        ["Checkups:Upstreams:geo:Hash:Algorithm"] = "ketama",
        ["Checkups:Upstreams:geo:Hash:BalanceFactor"] = "1.5",
        ["Checkups:Upstreams:geo:Fastest:DecayTime"] = "00:00:30",
        ["Checkups:Upstreams:geo:LocalFirst:PanicThreshold"] = "0.4",
        ["Checkups:Upstreams:geo:NamedClusters:west:Servers:0:Host"] = "127.0.0.2",
        ["Checkups:Upstreams:geo:NamedClusters:west:Servers:0:Port"] = "80",
        ["Checkups:Upstreams:geo:NamedClusters:east:Servers:0:Host"] = "127.0.0.3",
        ["Checkups:Upstreams:geo:NamedClusters:east:Servers:0:Port"] = "80",
    };

    private static (IHost Host, ReplaceableConfiguration Configuration, FakeLogCollector Logs) Build(
        Dictionary<string, string?> values, Action<IServiceCollection>? configure = null) => CheckupsHost.Build(values, configure);

    [Fact]
    public async Task AddCheckups_FromConfiguration_BindsLevelsNamedClustersAndPolicies()
    {
        var (host, _, _) = Build(Valid);
        using var _host = host;
        await host.StartAsync();

        var registry = host.Services.GetRequiredService<UpstreamRegistry>();
        var api = registry.Get("api");
        Assert.Equal(new[] { "1", "2" }, api.Clusters.Select(c => c.Name));
        Assert.Equal(4, api.Try);
        Assert.Equal(TimeSpan.FromSeconds(3), api.TryTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), api.Timeouts.Connect);
        Assert.Equal(TimeSpan.FromSeconds(5), api.Timeouts.Read);
        var server = api.Clusters[0].Servers[0];
        Assert.Equal((3, 2, TimeSpan.FromSeconds(30), "z1", "r7"), (server.Weight, server.MaxFails, server.FailTimeout, server.Zone, server.Metadata["rack"]));
        Assert.Equal(TimeSpan.FromSeconds(2), registry.HeartbeatInterval);
        var geo = registry.Get("geo");
        Assert.True(geo.HasNamedClusters);
        Assert.Equal(new[] { "east", "west" }, geo.Clusters.Select(c => c.Name).Order());
        Assert.Equal("hash", geo.Mode);
        Assert.IsType<Checkups.Balancing.KetamaSelector>(geo.Clusters[0].Selector);
        Assert.Equal((1.5, TimeSpan.FromSeconds(30), 0.4), (geo.Source.Hash.BalanceFactor, geo.Source.Fastest.DecayTime, geo.Source.LocalFirst.PanicThreshold));
        Assert.Equal("z1", host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<CheckupsOptions>>().Value.LocalZone);
        await host.StopAsync();
    }

    [Fact]
    public async Task AddCheckups_InvalidConfiguration_FailsHostStartWithEveryProblem()
    {
        var values = new Dictionary<string, string?>(Valid)
        {
            ["Checkups:Upstreams:api:Clusters:0:Servers:0:Port"] = "70000",
            ["Checkups:Upstreams:api:Clusters:0:Servers:0:Weight"] = "0",
        };
        var (host, _, _) = Build(values);
        using var _host = host;

        var error = await Assert.ThrowsAsync<CheckupsValidationException>(() => host.StartAsync());

        Assert.Equal(
            new[]
            {
                "Checkups:Upstreams:api:Clusters:0:Servers:0:Port must be between 1 and 65535 (was 70000)",
                "Checkups:Upstreams:api:Clusters:0:Servers:0:Weight must be between 1 and 1000000 (was 0)",
            },
            error.Errors);
    }

    [Fact]
    public async Task Reload_ValidChange_IsApplied_UnchangedUpstreamKeepsItsSnapshot()
    {
        var (host, configuration, _) = Build(Valid);
        using var _host = host;
        await host.StartAsync();
        var registry = host.Services.GetRequiredService<UpstreamRegistry>();
        var geoBefore = registry.Get("geo");
        long version = registry.Version;

        configuration.Replace(new Dictionary<string, string?>(Valid) { ["Checkups:Upstreams:api:Clusters:0:Servers:0:Port"] = "8101" });

        Assert.Equal(version + 1, registry.Version);
        Assert.Equal(8101, registry.Get("api").Clusters[0].Servers[0].Port);
        Assert.Same(geoBefore, registry.Get("geo"));
        await host.StopAsync();
    }

    [Fact]
    public async Task Reload_RemovedUpstream_IsDeleted_ApiCreatedUpstreamStays()
    {
        var (host, configuration, _) = Build(Valid);
        using var _host = host;
        await host.StartAsync();
        var registry = host.Services.GetRequiredService<UpstreamRegistry>();
        registry.Update("runtime", Upstreams.WithServers(Upstreams.Server(7001)));

        configuration.Replace(Valid.Where(e => !e.Key.StartsWith("Checkups:Upstreams:geo", StringComparison.Ordinal)).ToDictionary());

        Assert.False(registry.TryGet("geo", out _));
        Assert.True(registry.TryGet("runtime", out _));
        Assert.True(registry.TryGet("api", out _));
        await host.StopAsync();
    }

    [Fact]
    public async Task Reload_DefaultsChange_ApiCreatedUpstreamsAreRebuiltWithThem()
    {
        var (host, configuration, _) = Build(Valid);
        using var _host = host;
        await host.StartAsync();
        var registry = host.Services.GetRequiredService<UpstreamRegistry>();
        registry.Update("runtime", Upstreams.WithServers(Upstreams.Server(7001)));
        Assert.True(registry.Get("runtime").HeartbeatEnabled);

        configuration.Replace(new Dictionary<string, string?>(Valid) { ["Checkups:HeartbeatEnabled"] = "false" });

        Assert.False(registry.Get("runtime").HeartbeatEnabled);
        Assert.False(registry.Get("api").HeartbeatEnabled);
        await host.StopAsync();
    }

    [Fact]
    public async Task Reload_InvalidChange_IsLoggedAndPreviousUpstreamsStay()
    {
        var (host, configuration, logs) = Build(Valid);
        using var _host = host;
        await host.StartAsync();
        var registry = host.Services.GetRequiredService<UpstreamRegistry>();
        long version = registry.Version;

        configuration.Replace(new Dictionary<string, string?>(Valid)
        {
            ["Checkups:Upstreams:api:Clusters:0:Servers:0:Port"] = "8101",
            ["Checkups:Upstreams:api:Clusters:1:Servers:0:Weight"] = "-5",
        });

        Assert.Equal(version, registry.Version);
        Assert.Equal(8001, registry.Get("api").Clusters[0].Servers[0].Port);
        var entry = Assert.Single(logs.GetSnapshot(), e => e.Id.Id == Log.EventIds.ConfigurationReloadRejected);
        Assert.Equal(LogLevel.Error, entry.Level);
        Assert.Contains("Checkups:Upstreams:api:Clusters:1:Servers:0:Weight must be between 1 and 1000000 (was -5)", entry.Message, StringComparison.Ordinal);
        await host.StopAsync();
    }

    [Fact]
    public async Task Reload_UnparsableValue_IsLoggedAndPreviousUpstreamsStay()
    {
        var (host, configuration, logs) = Build(Valid);
        using var _host = host;
        await host.StartAsync();
        var registry = host.Services.GetRequiredService<UpstreamRegistry>();

        configuration.Replace(new Dictionary<string, string?>(Valid) { ["Checkups:Upstreams:api:Clusters:0:Servers:0:Port"] = "eighty" });

        Assert.Equal(8001, registry.Get("api").Clusters[0].Servers[0].Port);
        var entry = Assert.Single(logs.GetSnapshot(), e => e.Id.Id == Log.EventIds.ConfigurationReloadRejected);
        Assert.EndsWith("Checkups:Upstreams:api:Clusters:0:Servers:0:Port must be a whole number (was 'eighty')", entry.Message, StringComparison.Ordinal);
        await host.StopAsync();
    }

    [Fact]
    public async Task Reload_UnparsableUpstreamValue_DoesNotDropTheUpstream()
    {
        var (host, configuration, logs) = Build(Valid);
        using var _host = host;
        await host.StartAsync();
        var registry = host.Services.GetRequiredService<UpstreamRegistry>();

        configuration.Replace(new Dictionary<string, string?>(Valid) { ["Checkups:Upstreams:geo:Try"] = "many" });

        Assert.True(registry.TryGet("geo", out _));
        var entry = Assert.Single(logs.GetSnapshot(), e => e.Id.Id == Log.EventIds.ConfigurationReloadRejected);
        Assert.EndsWith("Checkups:Upstreams:geo:Try must be a whole number (was 'many')", entry.Message, StringComparison.Ordinal);
        await host.StopAsync();
    }

    [Fact]
    public async Task AddCheckups_UnparsableServerValue_FailsHostStartInsteadOfDroppingTheServer()
    {
        var (host, _, _) = Build(new Dictionary<string, string?>(Valid) { ["Checkups:Upstreams:api:Clusters:0:Servers:0:Weight"] = "heavy" });
        using var _host = host;

        var error = await Assert.ThrowsAsync<CheckupsValidationException>(() => host.StartAsync());

        Assert.Equal("Checkups:Upstreams:api:Clusters:0:Servers:0:Weight must be a whole number (was 'heavy')", Assert.Single(error.Errors));
    }

    [Fact]
    public async Task AddCheckups_WithDelegate_BadOptions_FailHostStartWithTheSameExceptionType()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddCheckups(o =>
        {
            o.HeartbeatInterval = TimeSpan.FromDays(60);
            o.Upstreams["api"] = Upstreams.WithServers(Upstreams.Server(0));
        });
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<CheckupsValidationException>(() => host.StartAsync());

        Assert.Equal(
            new[]
            {
                "Checkups:HeartbeatInterval must be greater than zero and at most 49.17:02:47.2940000 (was 60.00:00:00)",
                "Checkups:Upstreams:api:Servers:0:Port must be between 1 and 65535 (was 0)",
            },
            error.Errors);
    }

    [Fact]
    public void AddCheckups_WithDelegate_RegistersRegistrySingleton()
    {
        var services = new ServiceCollection();
        services.AddCheckups(o => o.Upstreams["api"] = Upstreams.WithServers(Upstreams.Server(8001)));
        using var provider = services.BuildServiceProvider();

        var registry = provider.GetRequiredService<UpstreamRegistry>();

        Assert.Same(registry, provider.GetRequiredService<UpstreamRegistry>());
        Assert.Equal(8001, registry.SelectPeer("api").Port);
    }

    /// <summary>A source with one fixed upstream, resolved from the container.</summary>
    public sealed class FixedSource : Checkups.Sources.IUpstreamSource
    {
        public string Name => "fixed";

        public Checkups.Sources.UpstreamSourceSnapshot GetSnapshot() => new(
            new Dictionary<string, UpstreamOptions> { ["images"] = Upstreams.WithServers(Upstreams.Server(7001)) },
            new Microsoft.Extensions.Primitives.CancellationChangeToken(System.Threading.CancellationToken.None));
    }

    [Fact]
    public async Task AddUpstreamSource_SourceFromTheContainer_OwnsItsUpstreams_BesideTheConfiguration()
    {
        var (host, _, _) = Build(Valid, services => services.AddCheckups(_ => { }).AddUpstreamSource<FixedSource>());
        using var _host = host;

        await host.StartAsync();

        var registry = host.Services.GetRequiredService<UpstreamRegistry>();
        Assert.Equal(("fixed", "configuration"), (registry.Get("images").Owner, registry.Get("api").Owner));
        Assert.Throws<UpstreamOwnershipException>(() => registry.Delete("images"));
        await host.StopAsync();
    }

    [Fact]
    public async Task AddHealthProbe_CustomDelegate_IsUsedByTheHostedHeartbeat()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSingleton<TimeProvider>(new FakeTimeProvider());
        var probed = new List<int>();
        builder.Services
            .AddCheckups(o =>
            {
                var upstream = Upstreams.WithServers(Upstreams.Server(8001), Upstreams.Server(8002));
                upstream.Heartbeat.Type = "queue-depth";
                o.Upstreams["api"] = upstream;
            })
            .AddHealthProbe("queue-depth", (context, _) =>
            {
                lock (probed)
                {
                    probed.Add(context.Server.Port);
                }

                return ValueTask.FromResult(context.Server.Port == 8002
                    ? Checkups.Health.Probes.ProbeResult.Failure("queue too deep", new Dictionary<string, string> { ["depth"] = "9000" })
                    : Checkups.Health.Probes.ProbeResult.Ok());
            });
        using var host = builder.Build();

        await host.StartAsync();

        var registry = host.Services.GetRequiredService<UpstreamRegistry>();
        Assert.Equal(new[] { 8001, 8002 }, probed.Order());
        var failed = Upstreams.StatusOf(registry, 8002);
        Assert.Equal(("err", "queue too deep", "9000"), (failed.Status, failed.Message, failed.Fields["depth"]));
        Assert.True(registry.GetStatus().HeartbeatAlive);
        await host.StopAsync();
        Assert.False(registry.GetStatus().HeartbeatAlive);
    }

    [Fact]
    public void AddCheckups_NullArguments_Throw()
    {
        var services = new ServiceCollection();

        Assert.Throws<ArgumentNullException>(() => services.AddCheckups((IConfiguration)null!));
        Assert.Throws<ArgumentNullException>(() => services.AddCheckups((Action<CheckupsOptions>)null!));
        Assert.Throws<ArgumentNullException>(() => ((IServiceCollection)null!).AddCheckups(_ => { }));
    }
}
