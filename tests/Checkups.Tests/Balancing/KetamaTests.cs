using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using Checkups.Configuration;
using Checkups.Registry;
using Checkups.TestUtils;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Checkups.Tests.Balancing;

public sealed class KetamaTests
{
    /// <summary>
    /// A vector recorded from nginx 1.22.1 (<c>hash $arg_k consistent</c>): by default ten servers weighted 1..10 and 200
    /// keys; <c>nginx-ketama-as-written.json</c> has six servers written as users write them (an IPv6 literal long-hand
    /// and short, a host name in mixed case, a dotted quad with leading zeros) and 2,000 keys.
    /// </summary>
    private static (List<(string Host, int Port, int Weight)> Servers, Dictionary<string, int> Keys) Vector(string file = "nginx-ketama-weighted.json")
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Vectors", file)));
        var servers = json.RootElement.GetProperty("servers").EnumerateArray().Select(line =>
        {
            // An nginx server line: host:port as written, then an optional weight=N.
            string[] parts = line.GetString()!.Split(' ');
            int colon = parts[0].LastIndexOf(':');
            int weight = parts.Length > 1 ? int.Parse(parts[1]["weight=".Length..], CultureInfo.InvariantCulture) : 1;
            return (parts[0][..colon], int.Parse(parts[0][(colon + 1)..], CultureInfo.InvariantCulture), weight);
        }).ToList();
        var keys = json.RootElement.GetProperty("keys").EnumerateObject()
            .ToDictionary(p => p.Name, p => int.Parse(p.Value.GetString()!, CultureInfo.InvariantCulture));
        return (servers, keys);
    }

    private static UpstreamRegistry KetamaRegistry(IEnumerable<(string Host, int Port, int Weight)> servers)
    {
        var upstream = new UpstreamOptions { Mode = BalancingModes.Hash };
        upstream.Hash.Algorithm = HashAlgorithms.Ketama;
        foreach (var (host, port, weight) in servers)
        {
            upstream.Servers.Add(new ServerOptions { Host = host, Port = port, Weight = weight });
        }

        return Upstreams.Registry("api", upstream);
    }

    [Fact]
    public void SelectPeer_NginxRecordedVector_EveryKeyMapsToTheSameServer()
    {
        var (servers, keys) = Vector();
        using var registry = KetamaRegistry(servers);

        Assert.Equal(200, keys.Count);
        var mismatches = keys.Where(k => registry.SelectPeer("api", k.Key).Port != k.Value).Select(k => k.Key).ToList();

        Assert.Empty(mismatches);
    }

    [Fact]
    public void SelectPeer_ServersWrittenNonCanonically_MapEveryKeyAsNginxDoes_HashingTheTextAsWritten()
    {
        var (servers, keys) = Vector("nginx-ketama-as-written.json");
        Assert.Contains(servers, s => s.Host == "[0:0:0:0:0:0:0:1]");
        Assert.Contains(servers, s => s.Host == "LocalHost");
        using var registry = KetamaRegistry(servers);

        Assert.Equal(2000, keys.Count);
        var mismatches = keys.Where(k => registry.SelectPeer("api", k.Key).Port != k.Value).Select(k => k.Key).ToList();

        Assert.Empty(mismatches);

        // The identity stays canonical: the long-hand IPv6 server is [::1] in its key, health and status.
        Assert.Equal("[::1]:19462", registry.Get("api").Clusters[0].Servers[0].Key);
    }

    [Fact]
    public void SelectPeer_SpanAndByteKeys_MapLikeStringKeys()
    {
        var (servers, keys) = Vector();
        using var registry = KetamaRegistry(servers);

        foreach (var (key, port) in keys.Take(50))
        {
            Assert.Equal(port, registry.SelectPeer("api", key.AsSpan()).Port);
            Assert.Equal(port, registry.SelectPeer("api", System.Text.Encoding.UTF8.GetBytes(key).AsSpan()).Port);
        }
    }

    [Fact]
    public void Ring_RebuiltOrReordered_MapsEveryKeyTheSame()
    {
        var (servers, keys) = Vector();
        using var first = KetamaRegistry(servers);
        using var shuffled = KetamaRegistry(servers.AsEnumerable().Reverse());

        Assert.All(keys.Keys, key => Assert.Equal(first.SelectPeer("api", key).Port, shuffled.SelectPeer("api", key).Port));
        var ring = (Checkups.Balancing.KetamaSelector)first.Get("api").Clusters[0].Selector;
        Assert.Equal(160 * 55, ring.PointCount);
    }

    [Property]
    public Property Ring_AnyServerSet_RebuiltInAnyOrderMapsEveryKeyTheSame()
    {
        var servers = Gen.Choose(1, 8).ArrayOf().Where(w => w.Length is >= 1 and <= 12)
            .Select(w => w.Select((weight, i) => ("127.0.0.1", 20000 + (i * 7), weight)).ToList());

        return Prop.ForAll(servers.ToArbitrary(), list =>
        {
            using var first = KetamaRegistry(list);
            using var again = KetamaRegistry(list.AsEnumerable().Reverse());
            return Enumerable.Range(0, 300).All(i => first.SelectPeer("api", "k" + i).Port == again.SelectPeer("api", "k" + i).Port)
                .Label("the ring built from the servers in reverse order maps every key to the same server");
        });
    }

    [Fact]
    public void SelectPeer_KeysServerDown_WalksToFollowingPointsLikeNginx()
    {
        var (servers, keys) = Vector();
        using var all = KetamaRegistry(servers);
        var withoutHeaviest = servers.Select(s => s.Port == 18310 ? (s.Host, s.Port, s.Weight) : s).ToList();
        var upstream = new UpstreamOptions { Mode = BalancingModes.Hash };
        upstream.Hash.Algorithm = HashAlgorithms.Ketama;
        foreach (var (host, port, weight) in withoutHeaviest)
        {
            upstream.Servers.Add(new ServerOptions { Host = host, Port = port, Weight = weight, Down = port == 18310 });
        }

        using var down = Upstreams.Registry("api", upstream);

        foreach (var (key, port) in keys)
        {
            int moved = down.SelectPeer("api", key).Port;
            Assert.NotEqual(18310, moved);
            if (port != 18310)
            {
                // Keys of servers that stay up never move.
                Assert.Equal(port, moved);
            }
        }
    }
}
