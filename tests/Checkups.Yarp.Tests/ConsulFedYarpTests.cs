using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Checkups.Consul;
using Checkups.TestUtils;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy;

namespace Checkups.Yarp.Tests;

/// <summary>A YARP cluster whose upstream a Consul watch owns: a KV change reaches YARP's destinations, live.</summary>
public sealed class ConsulFedYarpTests : IAsyncLifetime
{
    private readonly ConsulAgent _agent = new();
    private readonly List<Backend> _backends = new();

    public async Task InitializeAsync()
    {
        await _agent.InitializeAsync();
        await Backend.StartAllAsync(_backends, "A", "B");
    }

    public async Task DisposeAsync()
    {
        await Backend.DisposeAllAsync(_backends);
        await _agent.DisposeAsync();
    }

    [Fact]
    public async Task ConsulKvChange_ChangesTheYarpClustersDestinations_AndWhereRequestsGo()
    {
        await _agent.PutAsync($"upstreams/api/127.0.0.1:{_backends[0].Port}", "");
        await using var proxy = await YarpProxy.StartAsync(null, checkups: checkups => checkups.AddConsul(options =>
        {
            options.Upstream = "api";
            options.Wait = TimeSpan.FromSeconds(30);
            options.Addresses.Add(_agent.Address);
        }));
        var lookup = proxy.Services.GetRequiredService<IProxyStateLookup>();
        Assert.Equal("A", await proxy.Client.GetStringAsync("/"));

        await _agent.PutAsync($"upstreams/api/127.0.0.1:{_backends[1].Port}", """{"weight": 1}""");
        await _agent.DeleteAsync($"upstreams/api/127.0.0.1:{_backends[0].Port}");

        // Bounded: the watch's blocking query answers within milliseconds; YARP applies its configuration again.
        string expected = $"127.0.0.1:{_backends[1].Port}";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        for (int i = 0; i < 60_000 && DateTime.UtcNow < deadline; i++)
        {
            if (lookup.TryGetCluster("api", out var cluster) && cluster!.Destinations.Keys.SequenceEqual(new[] { expected }))
            {
                break;
            }

            await Task.Delay(1);
        }

        Assert.True(lookup.TryGetCluster("api", out var applied));
        Assert.Equal(new[] { expected }, applied!.Destinations.Keys);
        Assert.Equal("consul:api", proxy.Registry.Get("api").Owner);
        Assert.All(Enumerable.Range(0, 5), _ => Assert.Equal("B", proxy.Client.GetStringAsync("/").GetAwaiter().GetResult()));
    }
}
