using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Checkups.Model;
using Checkups.Registry;
using Checkups.TestUtils;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Checkups.Tests.Registry;

public sealed class UpstreamMapTests
{
    [Property]
    public Property With_AnySequenceOfChanges_ReadsLikeADictionary_BeforeAndAfterCompaction()
    {
        // Each step: (name index, remove?) over 12 names, so names are added, replaced, removed and added again.
        var steps = Gen.Zip(Gen.Choose(0, 11), Gen.Elements(true, false, false)).ArrayOf().Where(a => a.Length <= 60);
        return Prop.ForAll(steps.ToArbitrary(), changes =>
        {
            using var registry = Upstreams.Registry("seed", Upstreams.WithServers(Upstreams.Server(8001)));
            var template = registry.Get("seed");
            var map = UpstreamMap.Empty;
            var expected = new Dictionary<string, Upstream>(StringComparer.OrdinalIgnoreCase);
            int version = 0;
            foreach (var (index, remove) in changes)
            {
                // Alternate the spelling: names compare case-insensitively.
                string name = (version++ % 2 == 0 ? "UP" : "up") + index.ToString(CultureInfo.InvariantCulture);
                if (remove)
                {
                    map = map.With(Array.Empty<Upstream>(), new[] { name });
                    expected.Remove(name);
                }
                else
                {
                    var upstream = Renamed(registry, name);
                    map = map.With(new[] { upstream }, Array.Empty<string>());
                    expected[name] = upstream;
                }
            }

            var compacted = map.Compacted();
            return Same(map, expected).Label("the map reads like a dictionary given the same changes")
                .And(Same(compacted, expected).Label("compacted, it reads the same"))
                .And((!compacted.HasOverlay).Label("compacted, it has no overlay left"));
        });
    }

    [Fact]
    public void With_MoreChangesThanTheOverlayHolds_FoldsThemInAtOnce()
    {
        using var registry = Upstreams.Registry("seed", Upstreams.WithServers(Upstreams.Server(8001)));
        var map = UpstreamMap.Empty;
        for (int i = 0; i <= UpstreamMap.MaxOverlay; i++)
        {
            map = map.With(new[] { Renamed(registry, "u" + i.ToString(CultureInfo.InvariantCulture)) }, Array.Empty<string>());
        }

        Assert.False(map.HasOverlay);
        Assert.Equal(UpstreamMap.MaxOverlay + 1, map.Values.Count);
    }

    [Fact]
    public void Registry_AfterUpdates_CompactsInTheBackground_AndReadsTheSame()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(Upstreams.Server(8001)));
        for (int i = 0; i < 50; i++)
        {
            registry.Update("u" + i.ToString(CultureInfo.InvariantCulture), Upstreams.WithServers(Upstreams.Server(9000 + i)));
        }

        bool compacted = System.Threading.SpinWait.SpinUntil(() => !registry.Store.Current.Upstreams.HasOverlay, TimeSpan.FromSeconds(60));

        Assert.True(compacted);
        Assert.Equal(51, registry.GetAll().Count);
        Assert.Equal(9049, registry.SelectPeer("U49").Port);
    }

    private static Upstream Renamed(UpstreamRegistry registry, string name)
    {
        registry.Update(name, Upstreams.WithServers(Upstreams.Server(8001)));
        var upstream = registry.Get(name);
        registry.Delete(name);
        return upstream;
    }

    private static bool Same(UpstreamMap map, Dictionary<string, Upstream> expected) =>
        map.Values.Count == expected.Count
        && expected.All(e => map.TryGetValue(e.Key.ToUpperInvariant(), out var found) && ReferenceEquals(found, e.Value))
        && map.Values.All(u => expected.TryGetValue(u.Name, out var e) && ReferenceEquals(e, u));

    [Fact]
    public void GetAll_WithAndWithoutOverlay_CannotBeChangedByTheCaller()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(Upstreams.Server(8001)));
        registry.Update("other", Upstreams.WithServers(Upstreams.Server(8002)));

        var all = registry.GetAll();

        Assert.Throws<NotSupportedException>(() => ((ICollection<Upstream>)all).Clear());
        Assert.Equal(2, registry.GetAll().Count);
        Assert.Equal(2, registry.Store.Current.Upstreams.Compacted().Values.Count);
    }
}
