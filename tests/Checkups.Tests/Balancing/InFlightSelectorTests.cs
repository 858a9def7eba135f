using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Checkups.Balancing;
using Checkups.Configuration;
using Checkups.Registry;
using Checkups.TestUtils;
using Microsoft.Extensions.Time.Testing;

namespace Checkups.Tests.Balancing;

public sealed class InFlightSelectorTests
{
    private static UpstreamRegistry Registry(string mode, int[] weights, FakeTimeProvider? time = null, int seed = 7)
    {
        var upstream = new UpstreamOptions { Mode = mode };
        for (int i = 0; i < weights.Length; i++)
        {
            upstream.Servers.Add(Upstreams.Server(8001 + i, weights[i], maxFails: 100));
        }

        var options = new CheckupsOptions();
        options.Upstreams.Add("api", upstream);
        return new UpstreamRegistry(options, time ?? new FakeTimeProvider(), null, RandomSource.Seeded(seed));
    }

    /// <summary>Starts calls that stay in flight until the returned gate is opened; counts the calls per port.</summary>
    private static (TaskCompletionSource<int> Gate, List<Task<int>> Calls, Dictionary<int, int> PerPort) Hold(UpstreamRegistry registry, int calls)
    {
        var gate = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var perPort = new Dictionary<int, int>();
        var started = new List<Task<int>>();
        for (int i = 0; i < calls; i++)
        {
            started.Add(registry.ExecuteAsync<int>("api", (server, _) =>
            {
                perPort[server.Port] = perPort.GetValueOrDefault(server.Port) + 1;
                return new ValueTask<int>(gate.Task);
            }).AsTask());
        }

        return (gate, started, perPort);
    }

    [Fact]
    public async Task LeastRequests_HeldCalls_SpreadInProportionToWeight()
    {
        using var registry = Registry(BalancingModes.LeastRequests, new[] { 1, 1, 2 });

        var (gate, calls, perPort) = Hold(registry, 40);

        Assert.Equal(new[] { 10, 10, 20 }, new[] { 8001, 8002, 8003 }.Select(p => perPort[p]));
        gate.SetResult(0);
        await Task.WhenAll(calls);
        Assert.All(registry.Get("api").Clusters[0].Servers, p => Assert.Equal(0, p.Health.InFlight));
    }

    [Theory]
    [InlineData(BalancingModes.LeastRequests)]
    [InlineData(BalancingModes.PowerOfTwoChoices)]
    [InlineData(BalancingModes.Fastest)]
    public void ReportAfterSelectPeer_NeverReleasesCallsThatWereNotCounted(string mode)
    {
        using var registry = Registry(mode, new[] { 1, 1, 1 });

        for (int i = 0; i < 300; i++)
        {
            var server = registry.SelectPeer("api");
            if (i % 3 == 0)
            {
                registry.ReportFailure("api", server.Host, server.Port);
            }
            else
            {
                registry.ReportSuccess("api", server.Host, server.Port);
            }
        }

        Assert.All(registry.Get("api").Clusters[0].Servers, p => Assert.Equal(0, p.Health.InFlight));
    }

    [Fact]
    public void Fastest_ManualSuccessReport_AddsNoLatencySample()
    {
        using var registry = Registry(BalancingModes.Fastest, new[] { 1, 1 });

        registry.ReportSuccess("api", "127.0.0.1", 8001);
        registry.ReportFailure("api", "127.0.0.1", 8002);

        var servers = registry.Get("api").Clusters[0].Servers;
        Assert.False(servers[0].Health.Latency.HasSamples);
        Assert.True(servers[1].Health.Latency.HasSamples);
    }

    [Fact]
    public async Task PowerOfTwoChoices_HeldCalls_StayNearlyEven()
    {
        using var registry = Registry(BalancingModes.PowerOfTwoChoices, new[] { 1, 1, 1, 1, 1 });

        var (gate, calls, perPort) = Hold(registry, 100);

        // Two choices keep the most loaded server within a few calls of the mean (20), where one random choice would not.
        Assert.True(perPort.Values.Max() <= 23 && perPort.Values.Min() >= 17, string.Join(",", perPort.Values));
        gate.SetResult(0);
        await Task.WhenAll(calls);
    }

    [Fact]
    public async Task Fastest_DeterministicSimulation_PrefersTheFastServer()
    {
        var time = new FakeTimeProvider();
        using var registry = Registry(BalancingModes.Fastest, new[] { 1, 1, 1 }, time);
        var latency = new Dictionary<int, TimeSpan>
        {
            [8001] = TimeSpan.FromMilliseconds(50),
            [8002] = TimeSpan.FromMilliseconds(500),
            [8003] = TimeSpan.FromMilliseconds(60),
        };
        var served = new List<int>();

        for (int i = 0; i < 400; i++)
        {
            served.Add(await registry.ExecuteAsync("api", (server, _) =>
            {
                time.Advance(latency[server.Port]);
                return ValueTask.FromResult(server.Port);
            }));
        }

        var late = served.Skip(100).ToList();
        Assert.True(late.Count(p => p == 8002) < 15, $"slow server got {late.Count(p => p == 8002)} of 300");
        Assert.True(late.Count(p => p == 8001) > late.Count(p => p == 8003), "the fastest server should get the most");
    }

    [Fact]
    public async Task Fastest_FailuresCountAsSlow()
    {
        var time = new FakeTimeProvider();
        using var registry = Registry(BalancingModes.Fastest, new[] { 1, 1 }, time);
        int failures = 0;

        for (int i = 0; i < 200; i++)
        {
            await registry.ExecuteAsync<int>("api", (server, _) =>
            {
                time.Advance(TimeSpan.FromMilliseconds(5));
                if (server.Port == 8001)
                {
                    failures++;
                    throw new InvalidOperationException("fails fast");
                }

                return ValueTask.FromResult(server.Port);
            });
        }

        // A fast failure must not look like a fast server: it is charged the failure penalty.
        Assert.True(failures < 20, $"{failures} calls went to the failing server");
    }

    [Fact]
    public async Task Fastest_NewServerWithoutSamples_GetsAFairChance()
    {
        var time = new FakeTimeProvider();
        using var registry = Registry(BalancingModes.Fastest, new[] { 1, 1 }, time);
        for (int i = 0; i < 50; i++)
        {
            await registry.ExecuteAsync("api", (server, _) => { time.Advance(TimeSpan.FromMilliseconds(20)); return ValueTask.FromResult(0); });
        }

        var upstream = new UpstreamOptions { Mode = BalancingModes.Fastest };
        upstream.Servers.Add(Upstreams.Server(8001));
        upstream.Servers.Add(Upstreams.Server(8002));
        upstream.Servers.Add(Upstreams.Server(8003));
        registry.Update("api", upstream);
        var served = new List<int>();
        for (int i = 0; i < 60; i++)
        {
            served.Add(await registry.ExecuteAsync("api", (server, _) => { time.Advance(TimeSpan.FromMilliseconds(20)); return ValueTask.FromResult(server.Port); }));
        }

        int newcomer = served.Count(p => p == 8003);
        Assert.InRange(newcomer, 5, 40);
    }
}
