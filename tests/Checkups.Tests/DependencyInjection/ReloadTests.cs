using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
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

namespace Checkups.Tests.DependencyInjection;

/// <summary>Configuration as a source: the options pipeline on every reload, all or nothing, and a vanished section ignored.</summary>
public sealed class ReloadTests
{
    private static readonly Dictionary<string, string?> Valid = new()
    {
        ["Checkups:HeartbeatInterval"] = "00:00:02",
        ["Checkups:Upstreams:api:Servers:0:Host"] = "127.0.0.1",
        ["Checkups:Upstreams:api:Servers:0:Port"] = "8001",
        ["Checkups:Upstreams:geo:Servers:0:Host"] = "127.0.0.2",
        ["Checkups:Upstreams:geo:Servers:0:Port"] = "8002",
    };

    private static (IHost Host, ReplaceableConfiguration Configuration, FakeLogCollector Logs) Build(
        Dictionary<string, string?> values, Action<IServiceCollection>? configure = null) => CheckupsHost.Build(values, configure);

    private static Dictionary<string, string?> With(params (string Key, string? Value)[] changes)
    {
        var values = new Dictionary<string, string?>(Valid);
        foreach (var (key, value) in changes)
        {
            values[key] = value;
        }

        return values;
    }

    [Fact]
    public async Task Reload_UpstreamAddedByConfigureAndPostConfiguredTry_SurviveEveryReload()
    {
        var (host, configuration, _) = Build(Valid, services =>
        {
            services.Configure<CheckupsOptions>(o => o.Upstreams["coded"] = Upstreams.WithServers(Upstreams.Server(7001)));
            services.PostConfigure<CheckupsOptions>(o => o.Upstreams["api"].Try = 5);
        });
        using var _host = host;
        await host.StartAsync();
        var registry = host.Services.GetRequiredService<UpstreamRegistry>();
        Assert.Equal((5, "configuration"), (registry.Get("api").Try, registry.Get("coded").Owner));

        configuration.Replace(With(("Checkups:Upstreams:geo:Servers:0:Port", "8102")));

        Assert.Equal(8102, registry.Get("geo").Clusters[0].Servers[0].Port);
        Assert.Equal(5, registry.Get("api").Try);
        Assert.Equal(7001, registry.SelectPeer("coded").Port);
        await host.StopAsync();
    }

    [Fact]
    public async Task Reload_InvalidUpstream_GlobalSettingsOfTheSameReloadAreNotAppliedEither()
    {
        var (host, configuration, logs) = Build(Valid);
        using var _host = host;
        await host.StartAsync();
        var registry = host.Services.GetRequiredService<UpstreamRegistry>();

        configuration.Replace(With(("Checkups:HeartbeatInterval", "00:00:09"), ("Checkups:HeartbeatConcurrency", "3"), ("Checkups:Upstreams:geo:Servers:0:Port", "0")));

        Assert.Equal((TimeSpan.FromSeconds(2), 64), (registry.HeartbeatInterval, registry.HeartbeatConcurrency));
        Assert.Contains(logs.GetSnapshot(), e => e.Id.Id == Log.EventIds.ConfigurationReloadRejected && e.Message.Contains("Checkups:Upstreams:geo:Servers:0:Port must be between 1 and 65535 (was 0)", StringComparison.Ordinal));
        await host.StopAsync();
    }

    [Fact]
    public async Task Reload_SettingsAlone_AreAppliedAndBumpTheVersion_UpstreamsKeepTheirSnapshots()
    {
        var (host, configuration, _) = Build(Valid);
        using var _host = host;
        await host.StartAsync();
        var registry = host.Services.GetRequiredService<UpstreamRegistry>();
        var api = registry.Get("api");
        long version = registry.Version;

        configuration.Replace(With(("Checkups:HeartbeatInterval", "00:00:09"), ("Checkups:HeartbeatConcurrency", "3")));

        Assert.Equal((TimeSpan.FromSeconds(9), 3), (registry.HeartbeatInterval, registry.HeartbeatConcurrency));
        Assert.Equal(version + 1, registry.Version);
        Assert.Same(api, registry.Get("api"));
        await host.StopAsync();
    }

    [Fact]
    public async Task Reload_InfiniteBalanceFactor_IsRejectedWithItsPath_NothingHalfApplied()
    {
        var (host, configuration, logs) = Build(Valid);
        using var _host = host;
        await host.StartAsync();
        var registry = host.Services.GetRequiredService<UpstreamRegistry>();
        long version = registry.Version;

        configuration.Replace(With(
            ("Checkups:Upstreams:api:Servers:0:Port", "8101"),
            ("Checkups:Upstreams:geo:Mode", "hash"),
            ("Checkups:Upstreams:geo:Hash:BalanceFactor", "Infinity")));

        Assert.Equal(version, registry.Version);
        Assert.Equal(8001, registry.SelectPeer("api").Port);
        Assert.Contains(logs.GetSnapshot(), e => e.Id.Id == Log.EventIds.ConfigurationReloadRejected && e.Message.Contains("Checkups:Upstreams:geo:Hash:BalanceFactor must be a finite number of at least 1 (was Infinity)", StringComparison.Ordinal));
        await host.StopAsync();
    }

    [Fact]
    public async Task Reload_SectionGone_KeepsTheLastGoodUpstreamsAndWarns()
    {
        var (host, configuration, logs) = Build(Valid);
        using var _host = host;
        await host.StartAsync();
        var registry = host.Services.GetRequiredService<UpstreamRegistry>();
        long version = registry.Version;

        configuration.Replace(new Dictionary<string, string?>());

        Assert.Equal(version, registry.Version);
        Assert.True(registry.TryGet("api", out _));
        Assert.True(registry.TryGet("geo", out _));
        var entry = Assert.Single(logs.GetSnapshot(), e => e.Id.Id == Log.EventIds.ConfigurationSectionMissing);
        Assert.Equal(LogLevel.Warning, entry.Level);

        // The section coming back is applied as usual.
        configuration.Replace(With(("Checkups:Upstreams:api:Servers:0:Port", "8101")));
        Assert.Equal(8101, registry.SelectPeer("api").Port);
        await host.StopAsync();
    }

    [Fact]
    public async Task Reload_UpstreamsKeyGoneButOtherSettingsLeft_KeepsEverything()
    {
        var (host, configuration, logs) = Build(Valid);
        using var _host = host;
        await host.StartAsync();
        var registry = host.Services.GetRequiredService<UpstreamRegistry>();

        configuration.Replace(new Dictionary<string, string?> { ["Checkups:HeartbeatInterval"] = "00:00:07" });

        Assert.True(registry.TryGet("api", out _));
        Assert.Equal(TimeSpan.FromSeconds(2), registry.HeartbeatInterval);
        Assert.Single(logs.GetSnapshot(), e => e.Id.Id == Log.EventIds.ConfigurationSectionMissing);
        await host.StopAsync();
    }

    [Fact]
    public async Task Reload_ExplicitEmptyUpstreams_RemovesTheConfiguredOnes_RuntimeOnesStay()
    {
        var (host, configuration, _) = Build(Valid);
        using var _host = host;
        await host.StartAsync();
        var registry = host.Services.GetRequiredService<UpstreamRegistry>();
        registry.Update("adhoc", Upstreams.WithServers(Upstreams.Server(7001)));

        // What a JSON file with "Upstreams": {} gives: the key, with no value and no children.
        configuration.Replace(new Dictionary<string, string?> { ["Checkups:HeartbeatInterval"] = "00:00:02", ["Checkups:Upstreams"] = null });

        Assert.Equal(new[] { "adhoc" }, registry.GetAll().Select(u => u.Name));
        await host.StopAsync();
    }

    [Fact]
    public async Task Reload_LocalityNoLongerTellingLocalServers_IsRejected_WhileARuntimeUpstreamNeedsIt()
    {
        var (host, configuration, logs) = Build(With(("Checkups:LocalZone", "z1")));
        using var _host = host;
        await host.StartAsync();
        var registry = host.Services.GetRequiredService<UpstreamRegistry>();
        var local = Upstreams.WithServers(Upstreams.Server(7001));
        local.Mode = BalancingModes.LocalFirst;
        registry.Update("near", local);

        configuration.Replace(With(("Checkups:PreferLocalAddresses", "false")));

        Assert.Contains(logs.GetSnapshot(), e => e.Id.Id == Log.EventIds.ConfigurationReloadRejected && e.Message.Contains("Checkups:Upstreams:near (owned by runtime):Mode local needs Checkups:LocalZone or Checkups:PreferLocalAddresses", StringComparison.Ordinal));
        Assert.Equal(BalancingModes.LocalFirst, registry.Get("near").Mode);
        await host.StopAsync();
    }

    [Fact]
    public async Task Start_MisspelledKey_FailsNamingItsPathAndTheLikelyOption()
    {
        var (host, _, _) = Build(With(("Checkups:Upstreams:api:Servers:0:MaxFail", "3")));
        using var _host = host;

        var error = await Assert.ThrowsAsync<CheckupsValidationException>(() => host.StartAsync());

        Assert.Equal("Checkups:Upstreams:api:Servers:0:MaxFail is not a known option (did you mean MaxFails?)", Assert.Single(error.Errors));
    }

    [Fact]
    public async Task Reload_UnknownKey_IsRejectedAndLogged()
    {
        var (host, configuration, logs) = Build(Valid);
        using var _host = host;
        await host.StartAsync();
        var registry = host.Services.GetRequiredService<UpstreamRegistry>();

        configuration.Replace(With(("Checkups:Upstreams:api:Servers:0:Port", "8101"), ("Checkups:Upstreams:api:TryTimout", "00:00:03")));

        Assert.Equal(8001, registry.SelectPeer("api").Port);
        Assert.Contains(logs.GetSnapshot(), e => e.Id.Id == Log.EventIds.ConfigurationReloadRejected && e.Message.Contains("Checkups:Upstreams:api:TryTimout is not a known option (did you mean TryTimeout?)", StringComparison.Ordinal));
        await host.StopAsync();
    }

    private const string GoodJson = """{"Checkups":{"Upstreams":{"api":{"Servers":[{"Host":"127.0.0.1","Port":8001}]}}}}""";
    private const string NextJson = """{"Checkups":{"Upstreams":{"api":{"Servers":[{"Host":"127.0.0.1","Port":8002}]}}}}""";

    /// <summary>A started host whose Checkups section comes from a real JSON file watched with reloadOnChange.</summary>
    private sealed class FileHost : IDisposable
    {
        private FileHost(IHost host, string directory, string file, FakeLogCollector logs)
        {
            Host = host;
            Directory = directory;
            File = file;
            Logs = logs;
        }

        public IHost Host { get; }

        public string Directory { get; }

        public string File { get; }

        public FakeLogCollector Logs { get; }

        public UpstreamRegistry Registry => Host.Services.GetRequiredService<UpstreamRegistry>();

        public static async Task<FileHost> StartAsync()
        {
            string directory = ServerProcess.NewTempDirectory();
            string file = Path.Combine(directory, "checkups.json");
            await System.IO.File.WriteAllTextAsync(file, GoodJson);
            var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
            builder.Configuration.AddJsonFile(file, optional: false, reloadOnChange: true);
            var logs = new FakeLogCollector();
            builder.Logging.AddProvider(new FakeLoggerProvider(logs));
            builder.Services.AddCheckups(builder.Configuration.GetSection(CheckupsOptions.SectionName));
            var host = builder.Build();
            await host.StartAsync();
            return new FileHost(host, directory, file, logs);
        }

        public void Dispose()
        {
            Host.StopAsync().GetAwaiter().GetResult();
            Host.Dispose();
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }

    private static List<string> Rejections(FakeLogCollector logs) =>
        logs.GetSnapshot().Where(e => e.Id.Id == Log.EventIds.ConfigurationReloadRejected).Select(e => e.Message).ToList();

    /// <summary>Waits, bounded, for the file watcher (its own thread) to deliver what <paramref name="done"/> looks for.</summary>
    private static void AwaitWatcher(Func<bool> done, FakeLogCollector logs) =>
        Assert.True(SpinWait.SpinUntil(done, TimeSpan.FromSeconds(60)), string.Join(Environment.NewLine, logs.GetSnapshot().Select(e => e.Message)));

    [Theory]
    [InlineData("emptied")]
    [InlineData("cut")]
    public async Task Reload_UnreadableFile_IsRejectedWithTheFileAndReason_OnceAndTheNextGoodWriteApplies(string damage)
    {
        using var fixture = await FileHost.StartAsync();
        var (registry, file, logs) = (fixture.Registry, fixture.File, fixture.Logs);
        string torn = damage == "emptied" ? string.Empty : GoodJson[..(GoodJson.Length * 6 / 10)];

        await File.WriteAllTextAsync(file, torn);
        AwaitWatcher(() => Rejections(logs).Count > 0, logs);

        string rejection = Rejections(logs)[0];
        Assert.Contains(file, rejection, StringComparison.Ordinal);
        Assert.Contains("could not be read", rejection, StringComparison.Ordinal);
        Assert.DoesNotContain(logs.GetSnapshot(), e => e.Id.Id == Log.EventIds.ConfigurationSectionMissing);
        Assert.Equal(8001, registry.SelectPeer("api").Port);

        await File.WriteAllTextAsync(file, NextJson);
        AwaitWatcher(() => registry.SelectPeer("api").Port == 8002, logs);

        // One change, one line: the watcher's repeated reports of the same torn content say nothing new.
        var rejections = Rejections(logs);
        for (int i = 1; i < rejections.Count; i++)
        {
            Assert.NotEqual(rejections[i - 1], rejections[i]);
        }
    }

    [Fact]
    public async Task Reload_UnreadableFileReloadedByHand_ThrowsNothing_AndIsRejected()
    {
        using var fixture = await FileHost.StartAsync();
        var root = (IConfigurationRoot)fixture.Host.Services.GetRequiredService<IConfiguration>();

        // Written without the watcher's help, then reloaded on this thread: the provider's exception would surface here
        // (as it surfaces, unobserved, on the watcher's thread) if Checkups did not handle it.
        await File.WriteAllTextAsync(fixture.File, "{\"Checkups\": {\"Upstreams\": ");
        root.Reload();

        Assert.Contains(Rejections(fixture.Logs), m => m.Contains(fixture.File, StringComparison.Ordinal));
        Assert.Equal(8001, fixture.Registry.SelectPeer("api").Port);

        await File.WriteAllTextAsync(fixture.File, NextJson);
        root.Reload();

        Assert.Equal(8002, fixture.Registry.SelectPeer("api").Port);
    }

    [Fact]
    public async Task Reload_DeletedFile_KeepsTheLastGoodUpstreamsAndWarnsThatTheSectionIsGone()
    {
        using var fixture = await FileHost.StartAsync();

        File.Delete(fixture.File);
        AwaitWatcher(() => fixture.Logs.GetSnapshot().Any(e => e.Id.Id == Log.EventIds.ConfigurationSectionMissing), fixture.Logs);

        Assert.Equal(8001, fixture.Registry.SelectPeer("api").Port);
        Assert.Empty(Rejections(fixture.Logs));
        await File.WriteAllTextAsync(fixture.File, NextJson);
        AwaitWatcher(() => fixture.Registry.SelectPeer("api").Port == 8002, fixture.Logs);
    }
}
