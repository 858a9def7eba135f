using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Registry;
using Checkups.TestUtils;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Checkups.Consul.Tests;

/// <summary>Watches registered with <c>AddConsul</c> and run by a host.</summary>
public sealed class HostTests : IClassFixture<ConsulAgent>
{
    private readonly ConsulAgent _agent;

    public HostTests(ConsulAgent agent) => _agent = agent;

    [Fact]
    public async Task AddConsul_FromConfiguration_TheHostStartsTheWatch()
    {
        await _agent.PutAsync("upstreams/hosted/127.0.0.1:8001", """{"weight": 2}""");
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Consul:Upstream"] = "hosted",
            ["Consul:Addresses:0"] = _agent.Address,
            ["Consul:Wait"] = "00:00:30",
            ["Consul:Template:Try"] = "2",
        });
        builder.Services.AddCheckups(_ => { }).AddConsul(builder.Configuration.GetSection("Consul"));
        using var host = builder.Build();

        await host.StartAsync();
        var registry = host.Services.GetRequiredService<UpstreamRegistry>();

        var server = registry.SelectPeer("hosted");
        Assert.Equal((8001, 2), (server.Port, server.Weight));
        Assert.Equal(2, registry.Get("hosted").Try);
        Assert.Equal("consul:hosted", registry.GetStatus().Upstreams["hosted"].Owner);
        await host.StopAsync();
    }

    [Fact]
    public async Task AddConsul_StrongDependencyAndConsulDown_TheHostFailsToStart()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddCheckups(_ => { }).AddConsul(options =>
        {
            options.Upstream = "required";
            options.Addresses.Add($"http://127.0.0.1:{ServerProcess.FreePort()}");
            options.StrongDependency = true;
        });
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<ConsulException>(() => host.StartAsync());

        Assert.Contains("required", error.Message);
    }

    [Fact]
    public void AddConsul_BadOptionsOrArguments_ThrowAtRegistration()
    {
        var checkups = new ServiceCollection().AddCheckups(_ => { });

        Assert.Throws<ArgumentException>(() => checkups.AddConsul(options => options.Upstream = " "));
        var lookAlike = Assert.Throws<ArgumentException>(() => checkups.AddConsul(options => options.Upstream = "a\u200bpi"));
        Assert.Contains("U+200B", lookAlike.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentNullException>(() => checkups.AddConsul((Action<ConsulOptions>)null!));
        Assert.Throws<ArgumentNullException>(() => ((Checkups.DependencyInjection.ICheckupsBuilder)null!).AddConsul(_ => { }));
        var unknown = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Upstream"] = "x", ["Wiat"] = "00:00:10" }).Build();
        Assert.ThrowsAny<InvalidOperationException>(() => checkups.AddConsul(unknown));
    }
}
