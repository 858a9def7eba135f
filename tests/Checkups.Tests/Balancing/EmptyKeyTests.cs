using System;
using System.Linq;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Execution;
using Checkups.TestUtils;

namespace Checkups.Tests.Balancing;

/// <summary>An empty or missing key is no key, in every hashing mode: the pick is round robin, as nginx does.</summary>
public sealed class EmptyKeyTests
{
    public static TheoryData<string, string> Modes()
    {
        var modes = new TheoryData<string, string>();
        foreach (string mode in new[] { BalancingModes.Hash, BalancingModes.UrlHash, BalancingModes.IpHash, BalancingModes.HeaderHash })
        {
            modes.Add(mode, HashAlgorithms.Maglev);
            modes.Add(mode, HashAlgorithms.Ketama);
        }

        return modes;
    }

    private static Checkups.Registry.UpstreamRegistry Registry(string mode, string algorithm)
    {
        var upstream = Upstreams.WithServers(Upstreams.Server(8001), Upstreams.Server(8002), Upstreams.Server(8003));
        upstream.Mode = mode;
        upstream.Hash.Algorithm = algorithm;
        upstream.Hash.Header = "X-User";
        return Upstreams.Registry("api", upstream);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void SelectPeer_EmptyKey_IsRoundRobinOverEveryServer(string mode, string algorithm)
    {
        using var registry = Registry(mode, algorithm);

        var byString = Enumerable.Range(0, 6).Select(_ => registry.SelectPeer("api", string.Empty).Port).ToArray();
        var bySpan = Enumerable.Range(0, 6).Select(_ => registry.SelectPeer("api", ReadOnlySpan<char>.Empty).Port).ToArray();
        var byBytes = Enumerable.Range(0, 6).Select(_ => registry.SelectPeer("api", ReadOnlySpan<byte>.Empty).Port).ToArray();

        Assert.Equal(new[] { 8001, 8002, 8003 }, byString.Distinct().Order());
        Assert.Equal(new[] { 8001, 8002, 8003 }, bySpan.Distinct().Order());
        Assert.Equal(new[] { 8001, 8002, 8003 }, byBytes.Distinct().Order());
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task ExecuteAsync_EmptyHashKey_SpreadsOverEveryServer(string mode, string algorithm)
    {
        using var registry = Registry(mode, algorithm);
        var options = new ExecuteOptions { HashKey = string.Empty };
        var ports = new int[6];

        for (int i = 0; i < ports.Length; i++)
        {
            ports[i] = await registry.ExecuteAsync("api", (server, _) => ValueTask.FromResult(server.Port), options);
        }

        Assert.Equal(new[] { 8001, 8002, 8003 }, ports.Distinct().Order());
    }
}
