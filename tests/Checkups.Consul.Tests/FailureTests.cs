using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Registry;
using Checkups.TestUtils;
using Microsoft.Extensions.Logging.Testing;

namespace Checkups.Consul.Tests;

/// <summary>What a watch does when Consul goes away, comes back empty, or is only one of several addresses.</summary>
public sealed class FailureTests : IAsyncLifetime
{
    private readonly ConsulAgent _agent = new();
    private readonly string _folder = ServerProcess.NewTempDirectory();

    public Task InitializeAsync() => _agent.InitializeAsync();

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    private ConsulOptions Options(string upstream, params string[] addresses)
    {
        var options = new ConsulOptions
        {
            Upstream = upstream,
            Wait = TimeSpan.FromSeconds(30),
            MinBackoff = TimeSpan.FromMilliseconds(50),
            MaxBackoff = TimeSpan.FromMilliseconds(500),
            StartTimeout = TimeSpan.FromSeconds(5),
            DumpFile = Path.Combine(_folder, upstream + ".json"),
        };
        foreach (string address in addresses.Length > 0 ? addresses : new[] { _agent.Address })
        {
            options.Addresses.Add(address);
        }

        return options;
    }

    private static string DeadAddress() => $"http://127.0.0.1:{ServerProcess.FreePort()}";

    [Fact]
    public async Task ConsulStopped_PicksGoOn_RestartedEmpty_TheLoopResetsAndResyncs()
    {
        using var registry = new UpstreamRegistry(new CheckupsOptions());
        for (int i = 0; i < 20; i++)
        {
            // Enough writes that the restarted agent's index is below this one's.
            await _agent.PutAsync("filler/" + i, "x");
        }

        await _agent.PutAsync("upstreams/api/127.0.0.1:8001", "");
        var logs = new AwaitableLogCollector();
        await using var watch = new ConsulWatch(registry, Options("api"), logger: new FakeLogger(logs, ConsulLog.Category));
        await watch.StartAsync();
        ulong before = watch.LastIndex;

        await _agent.StopAsync();
        await logs.WhenLoggedAsync(ConsulLog.EventIds.ReadFailed);

        Assert.NotNull(watch.LastError);
        Assert.Equal(8001, registry.SelectPeer("api").Port);

        await _agent.RestartAsync();
        await Applied.AfterAsync(registry, "api", () => _agent.PutAsync("upstreams/api/127.0.0.1:8002", ""));

        Assert.Equal(new[] { 8002 }, registry.Get("api").Clusters[0].Servers.Select(s => s.Port));
        Assert.True(watch.LastIndex < before, $"index {watch.LastIndex} after the restart, {before} before");
        Assert.Contains(logs.GetSnapshot(), e => e.Id.Id == ConsulLog.EventIds.IndexReset);
        Assert.Null(watch.LastError);
    }

    [Fact]
    public async Task Dump_WrittenAtomicallyWithMode0600_AndUsedAtStartWhenConsulIsDown()
    {
        using (var registry = new UpstreamRegistry(new CheckupsOptions()))
        {
            await _agent.PutAsync("upstreams/dumped/127.0.0.1:8001", """{"weight": 5}""");
            await using var watch = new ConsulWatch(registry, Options("dumped"));
            await watch.StartAsync();
            await Applied.AfterAsync(registry, "dumped", () => _agent.PutAsync("upstreams/dumped/127.0.0.1:8002", ""));
        }

        string dump = Path.Combine(_folder, "dumped.json");
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(dump));
        }

        Assert.Equal(new[] { "dumped.json" }, Directory.GetFiles(_folder).Select(Path.GetFileName));

        using var restarted = new UpstreamRegistry(new CheckupsOptions());
        await using var fromDump = new ConsulWatch(restarted, Options("dumped", DeadAddress()));
        await fromDump.StartAsync();

        var servers = restarted.Get("dumped").Clusters[0].Servers;
        Assert.Equal(new[] { (8001, 5), (8002, 1) }, servers.Select(s => (s.Port, s.Weight)));
        Assert.NotNull(fromDump.LastError);
    }

    [Fact]
    public async Task StrongDependency_ConsulDown_StartFails()
    {
        using var registry = new UpstreamRegistry(new CheckupsOptions());
        var options = Options("strong", DeadAddress());
        options.StrongDependency = true;
        await using var watch = new ConsulWatch(registry, options);

        var error = await Assert.ThrowsAsync<ConsulException>(() => watch.StartAsync());

        Assert.Contains("strong", error.Message);
        Assert.Contains("cannot start", error.Message);
        Assert.False(registry.GetStatus().Upstreams.ContainsKey("strong"));
    }

    [Fact]
    public async Task TwoAddresses_TheFirstDead_TheSecondIsUsed()
    {
        using var registry = new UpstreamRegistry(new CheckupsOptions());
        await _agent.PutAsync("upstreams/failover/127.0.0.1:8001", "");
        await using var watch = new ConsulWatch(registry, Options("failover", DeadAddress(), _agent.Address));
        await watch.StartAsync();

        Assert.Equal(8001, registry.SelectPeer("failover").Port);
        Assert.Null(watch.LastError);
        await Applied.AfterAsync(registry, "failover", () => _agent.PutAsync("upstreams/failover/127.0.0.1:8002", ""));
        Assert.Equal(2, registry.Get("failover").Clusters[0].Servers.Length);
    }

    [Fact]
    public async Task TwoAgents_TheOneAnsweringDiesDuringAWait_TheOtherIsAskedFromItsOwnIndexAndAnswersAtOnce()
    {
        // Two agents of different clusters (as after a failover to another datacenter's agents): the second one's index
        // is far below the first one's. Asked with the first one's index, it would hold the query for the whole wait.
        await using var second = new ConsulAgent();
        await second.InitializeAsync();
        for (int i = 0; i < 40; i++)
        {
            await _agent.PutAsync("filler/" + i, "x");
        }

        await _agent.PutAsync("upstreams/moved/127.0.0.1:8001", "");
        await second.PutAsync("upstreams/moved/127.0.0.1:8002", "");
        using var registry = new UpstreamRegistry(new CheckupsOptions());
        var options = Options("moved", _agent.Address, second.Address);
        options.Wait = TimeSpan.FromMinutes(10);
        var logs = new AwaitableLogCollector();
        await using var watch = new ConsulWatch(registry, options, logger: new FakeLogger(logs, ConsulLog.Category));
        await watch.StartAsync();
        Assert.Equal(8001, registry.SelectPeer("moved").Port);
        ulong first = watch.LastIndex;

        // The watch is in a blocking query on the first agent; it dies. The second answers from 0 at once, well within
        // the bound below (the wait is ten minutes).
        await Applied.AfterAsync(registry, "moved", () => _agent.StopAsync());

        Assert.Equal(new[] { 8002 }, registry.Get("moved").Clusters[0].Servers.Select(s => s.Port));
        Assert.True(watch.LastIndex < first, $"index {watch.LastIndex} from the second agent, {first} from the first");
        Assert.Null(watch.LastError);
    }

    [Fact]
    public async Task UpstreamOwnedByConfiguration_TheWatchIsRefused()
    {
        var configured = new CheckupsOptions();
        var upstream = new UpstreamOptions();
        upstream.Servers.Add(new ServerOptions { Host = "127.0.0.1", Port = 9000 });
        configured.Upstreams.Add("owned", upstream);
        using var registry = new UpstreamRegistry(configured);
        await _agent.PutAsync("upstreams/owned/127.0.0.1:8001", "");
        await using var watch = new ConsulWatch(registry, Options("owned"));

        var error = await Assert.ThrowsAnyAsync<CheckupsException>(() => watch.StartAsync());

        Assert.Contains("owned is owned by source 'runtime'", error.Message);
        Assert.Contains("'consul:owned' cannot change it", error.Message);
        Assert.Equal(9000, registry.SelectPeer("owned").Port);
    }
}
