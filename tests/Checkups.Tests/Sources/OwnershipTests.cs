using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Diagnostics;
using Checkups.Registry;
using Checkups.Sources;
using Checkups.TestUtils;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.Time.Testing;

namespace Checkups.Tests.Sources;

public sealed class OwnershipTests
{
    private readonly FakeTimeProvider _time = new();

    /// <summary>A source whose content a test replaces; each replacement fires the previous snapshot's token.</summary>
    private sealed class TestSource(string name) : IUpstreamSource
    {
        private CancellationTokenSource _changed = new();
        private Dictionary<string, UpstreamOptions> _upstreams = new(StringComparer.OrdinalIgnoreCase);

        public string Name { get; } = name;

        public UpstreamSourceSnapshot GetSnapshot() => new(_upstreams, new CancellationChangeToken(_changed.Token));

        public void Set(params (string Name, UpstreamOptions Options)[] upstreams)
        {
            _upstreams = upstreams.ToDictionary(u => u.Name, u => u.Options, StringComparer.OrdinalIgnoreCase);
            var previous = _changed;
            _changed = new CancellationTokenSource();
            previous.Cancel();
        }
    }

    private UpstreamRegistry Configured(string name = "api")
    {
        var options = new CheckupsOptions();
        options.Upstreams.Add(name, Upstreams.WithServers(Upstreams.Server(8001)));
        return new UpstreamRegistry(options, _time, null, Checkups.Balancing.RandomSource.Shared, UpstreamRegistry.BuiltInProbeTypes, UpstreamSourceNames.Configuration);
    }

    [Fact]
    public void Update_UpstreamOwnedByConfiguration_IsRefusedNamingUpstreamAndOwner()
    {
        using var registry = Configured();
        long version = registry.Version;

        var error = Assert.Throws<UpstreamOwnershipException>(() => registry.Update("API", Upstreams.WithServers(Upstreams.Server(9001))));

        Assert.Equal("Upstream 'api' is owned by source 'configuration'; source 'runtime' cannot change or delete it.", error.Message);
        Assert.Equal(("api", "configuration", "runtime"), (error.Upstream, error.Owner, error.RefusedSource));
        Assert.Equal(version, registry.Version);
        Assert.Throws<UpstreamOwnershipException>(() => registry.UpdateServers("api", new[] { Upstreams.Server(9001) }));
        Assert.Throws<UpstreamOwnershipException>(() => registry.Delete("api"));
        Assert.Equal(8001, registry.SelectPeer("api").Port);
    }

    [Fact]
    public void Status_ShowsEachUpstreamsOwner_InObjectsAndJson()
    {
        using var registry = Configured();
        registry.Update("adhoc", Upstreams.WithServers(Upstreams.Server(7001)));

        var status = registry.GetStatus();

        Assert.Equal("configuration", status.Upstreams["api"].Owner);
        Assert.Equal("runtime", status.Upstreams["adhoc"].Owner);
        Assert.Equal("configuration", registry.Get("api").Owner);
        Assert.Contains("\"upstreams\":{\"adhoc\":{\"owner\":\"runtime\"", status.ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public void AddSource_AppliesItsUpstreams_FollowsChanges_RemovesWhatItDropped()
    {
        using var registry = Configured();
        var source = new TestSource("consul");
        source.Set(("images", Upstreams.WithServers(Upstreams.Server(7001))), ("videos", Upstreams.WithServers(Upstreams.Server(7002))));

        using var subscription = registry.AddSource(source);
        Assert.Equal("consul", registry.Get("images").Owner);

        source.Set(("images", Upstreams.WithServers(Upstreams.Server(7011))));

        Assert.Equal(7011, registry.SelectPeer("images").Port);
        Assert.False(registry.TryGet("videos", out _));
        Assert.True(registry.TryGet("api", out _));
        Assert.Throws<UpstreamOwnershipException>(() => registry.Update("images", Upstreams.WithServers(Upstreams.Server(1))));
    }

    [Fact]
    public void AddSource_LaterSnapshotClaimingAnotherOwnersUpstream_IsRejectedWholeAndLogged()
    {
        var logs = new FakeLogCollector();
        var options = new CheckupsOptions();
        options.Upstreams.Add("api", Upstreams.WithServers(Upstreams.Server(8001)));
        using var registry = new UpstreamRegistry(options, _time, new FakeLogger<UpstreamRegistry>(logs));
        var source = new TestSource("consul");
        source.Set(("images", Upstreams.WithServers(Upstreams.Server(7001))));
        using var subscription = registry.AddSource(source);
        long version = registry.Version;

        source.Set(("images", Upstreams.WithServers(Upstreams.Server(7011))), ("api", Upstreams.WithServers(Upstreams.Server(1))));

        Assert.Equal(version, registry.Version);
        Assert.Equal(7001, registry.SelectPeer("images").Port);
        Assert.Equal(8001, registry.SelectPeer("api").Port);
        var entry = Assert.Single(logs.GetSnapshot(), e => e.Id.Id == Log.EventIds.SourceChangeRejected);
        Assert.Contains("consul:Upstreams:api is owned by source 'runtime'; source 'consul' cannot change it", entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddSource_FirstSnapshotInvalid_Throws_AndTheNameStaysFree()
    {
        using var registry = Configured();
        var source = new TestSource("consul");
        source.Set(("images", Upstreams.WithServers(Upstreams.Server(0))));

        var error = Assert.Throws<CheckupsValidationException>(() => registry.AddSource(source));

        Assert.Equal("consul:Upstreams:images:Servers:0:Port must be between 1 and 65535 (was 0)", Assert.Single(error.Errors));
        source.Set(("images", Upstreams.WithServers(Upstreams.Server(7001))));
        using var subscription = registry.AddSource(source);
        Assert.Equal(7001, registry.SelectPeer("images").Port);
        Assert.Throws<ArgumentException>(() => registry.AddSource(new TestSource("runtime")));
    }

    [Fact]
    public async Task Changed_IsRaisedAfterTheWriteLock_AHandlerMayWaitForAnotherThreadsChange()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(Upstreams.Server(8001)), _time);
        var versions = new List<long>();
        bool waited = false;
        registry.Changed += (_, change) =>
        {
            lock (versions)
            {
                versions.Add(change.Version);
            }

            if (!waited)
            {
                waited = true;

                // Another thread changes the registry while this handler waits for it: with the event raised under the
                // write lock, this would deadlock.
                var other = Task.Run(() => registry.Update("other", Upstreams.WithServers(Upstreams.Server(9001))));
                Assert.True(other.Wait(TimeSpan.FromSeconds(60)), "the other thread's update never returned");
            }
        };
        long before = registry.Version;

        await Task.Run(() => registry.Update("api", Upstreams.WithServers(Upstreams.Server(8002))));

        Assert.Equal(new[] { before + 1, before + 2 }, versions);
        Assert.Equal("runtime", Assert.IsType<string>(registry.Get("other").Owner));
    }

    [Fact]
    public void Changed_AHandlerThatChangesTheRegistry_EveryHandlerStillSeesOneChangeBeforeTheNext()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(Upstreams.Server(8001)), _time);
        var seen = new List<string>();
        bool changedOnce = false;
        registry.Changed += (_, change) =>
        {
            seen.Add("first:" + change.Version);
            if (!changedOnce)
            {
                changedOnce = true;
                registry.Update("other", Upstreams.WithServers(Upstreams.Server(9001)));
            }
        };
        registry.Changed += (_, change) => seen.Add("second:" + change.Version);
        long v = registry.Version;

        registry.Update("api", Upstreams.WithServers(Upstreams.Server(8002)));

        Assert.Equal(new[] { $"first:{v + 1}", $"second:{v + 1}", $"first:{v + 2}", $"second:{v + 2}" }, seen);
    }

    [Fact]
    public void AddSource_Disposed_FreesItsName_ASourceAttachedAgainTakesOverItsUpstreams()
    {
        using var registry = Configured();
        var first = new TestSource("consul");
        first.Set(("images", Upstreams.WithServers(Upstreams.Server(7001))));
        var subscription = registry.AddSource(first);

        subscription.Dispose();
        first.Set(("images", Upstreams.WithServers(Upstreams.Server(7099))));
        Assert.Equal(7001, registry.SelectPeer("images").Port);

        var second = new TestSource("consul");
        second.Set(("images", Upstreams.WithServers(Upstreams.Server(7002))));
        using var again = registry.AddSource(second);
        Assert.Equal(7002, registry.SelectPeer("images").Port);
    }

    [Fact]
    public void AddSource_SourceHandingOutFiredTokens_IsFollowedWithoutRecursionAndStops()
    {
        using var registry = Configured();
        var source = new FiredTokenSource();

        using var subscription = registry.AddSource(source);

        Assert.Equal(7001, registry.SelectPeer("images").Port);
        Assert.InRange(source.Snapshots, 2, 101);
    }

    /// <summary>A source whose every token has already fired (a bug the registry must survive).</summary>
    private sealed class FiredTokenSource : IUpstreamSource
    {
        public int Snapshots { get; private set; }

        public string Name => "eager";

        public UpstreamSourceSnapshot GetSnapshot()
        {
            Snapshots++;
            using var fired = new CancellationTokenSource();
            fired.Cancel();
            return new UpstreamSourceSnapshot(
                new Dictionary<string, UpstreamOptions> { ["images"] = Upstreams.WithServers(Upstreams.Server(7001)) },
                new CancellationChangeToken(fired.Token));
        }
    }

    [Fact]
    public void Writer_OwnsWhatItWrites_AndIsRefusedWhatOthersOwn()
    {
        using var registry = Configured();
        using var admin = registry.AddWriter("admin");

        admin.Update("web", Upstreams.WithServers(Upstreams.Server(9001)));
        admin.Update("web", current =>
        {
            // Only the servers change; everything else comes from the current options, under the write lock.
            var next = current!;
            next.Try = 3;
            next.Servers.Clear();
            next.Servers.Add(Upstreams.Server(9002));
            return next;
        });

        Assert.Equal("admin", registry.GetStatus().Upstreams["web"].Owner);
        Assert.Equal(new[] { "web" }, registry.GetStatus().Sources["admin"].Upstreams);
        Assert.Equal((9002, 3), (registry.SelectPeer("web").Port, registry.Get("web").Try));
        var refused = Assert.Throws<UpstreamOwnershipException>(() => admin.Update("api", Upstreams.WithServers(Upstreams.Server(9003))));
        Assert.Equal(("configuration", "admin"), (refused.Owner, refused.RefusedSource));
        Assert.Throws<UpstreamOwnershipException>(() => admin.Delete("api"));
        Assert.Throws<UpstreamOwnershipException>(() => registry.Update("web", Upstreams.WithServers(Upstreams.Server(9004))));
        Assert.Throws<ArgumentException>(() => registry.AddWriter("admin"));
        Assert.Throws<CheckupsValidationException>(() => admin.Update("web", Upstreams.WithServers(Upstreams.Server(70000))));
        Assert.Equal(9002, registry.SelectPeer("web").Port);
        Assert.True(admin.Delete("web"));
        Assert.False(registry.TryGet("web", out _));
        Assert.False(admin.Delete("web"));
    }

    [Fact]
    public void Writer_Disposed_GivesTheNameBackAndItsUpstreamsStayOwned()
    {
        using var registry = Configured();
        var first = registry.AddWriter("admin");
        first.Update("web", Upstreams.WithServers(Upstreams.Server(9001)));
        first.Dispose();

        Assert.Throws<ObjectDisposedException>(() => first.Delete("web"));
        using var second = registry.AddWriter("admin");
        second.Update("web", Upstreams.WithServers(Upstreams.Server(9002)));
        Assert.Equal(9002, registry.SelectPeer("web").Port);
    }

    [Fact]
    public void Writer_ChangeBuiltWhileAnotherLandsOnTheSameUpstream_IsBuiltAgainOnIt()
    {
        using var registry = Configured();
        using var admin = registry.AddWriter("admin");
        admin.Update("web", Upstreams.WithServers(Upstreams.Server(9001)));
        var seen = new System.Collections.Generic.List<int?>();

        admin.Update("web", current =>
        {
            seen.Add(current!.Try);
            if (seen.Count == 1)
            {
                // A large change is prepared outside the write lock: another writer's change lands meanwhile.
                System.Threading.Tasks.Task.Run(() => admin.Update("web", other =>
                {
                    other!.Try = 2;
                    return other;
                })).Wait();
            }

            current.Servers.Add(Upstreams.Server(9002));
            return current;
        });

        // Built again on the change that landed, so it is not undone: both stand.
        Assert.Equal(new int?[] { null, 2 }, seen);
        var web = registry.Get("web");
        Assert.Equal((2, 2), (web.Try, web.Clusters[0].Servers.Length));
    }

    [Fact]
    public void Writer_ChangeBuiltWhileAnotherUpstreamChanges_IsBuiltOnceAndGetsTheNextVersion()
    {
        using var registry = Configured();
        using var admin = registry.AddWriter("admin");
        admin.Update("web", Upstreams.WithServers(Upstreams.Server(9001)));
        int builds = 0;

        var applied = admin.Update("web", current =>
        {
            if (++builds == 1)
            {
                System.Threading.Tasks.Task.Run(() => admin.Update("other", Upstreams.WithServers(Upstreams.Server(9100)))).Wait();
            }

            current!.Servers.Add(Upstreams.Server(9002));
            return current;
        });

        Assert.Equal(1, builds);
        Assert.Equal(registry.Version, applied.Version);
        Assert.Equal(applied.Version - 1, registry.Get("other").Version);
        Assert.Same(applied, registry.Get("web"));
    }
}
