using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.TestUtils;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Checkups.Grpc.Tests;

/// <summary>Addresses, registration and the channel helper.</summary>
public sealed class CheckupsGrpcTests
{
    [Theory]
    [InlineData("api", "checkups://api")]
    [InlineData("orders.v2", "checkups://orders.v2")]
    [InlineData("my api", "checkups:///my%20api")]
    [InlineData("user_service", "checkups:///user_service")]
    [InlineData("café", "checkups:///caf%C3%A9")]
    public void AddressOf_HostNamesAsHosts_OtherNamesAsEscapedPaths_AndBack(string upstream, string address)
    {
        Assert.Equal(address, CheckupsGrpc.AddressOf(upstream).OriginalString);
        Assert.Equal(upstream, CheckupsGrpc.UpstreamOf(new Uri(address)), StringComparer.OrdinalIgnoreCase);
    }

    [Fact]
    public void UpstreamOf_TripleSlashAndHostForms_AndErrorsNameTheAddress()
    {
        Assert.Equal("api", CheckupsGrpc.UpstreamOf(new Uri("checkups:///api")));
        Assert.Equal("api", CheckupsGrpc.UpstreamOf(new Uri("checkups://api/ignored")));
        Assert.Contains("dns:///api", Assert.Throws<ArgumentException>(() => CheckupsGrpc.UpstreamOf(new Uri("dns:///api"))).Message, StringComparison.Ordinal);
        Assert.Contains("names no upstream", Assert.Throws<ArgumentException>(() => CheckupsGrpc.UpstreamOf(new Uri("checkups:///"))).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => CheckupsGrpc.AddressOf(" "));
    }

    [Fact]
    public void AddressesOf_EveryLevelOnce_WithTheServerKeyAndUpstream()
    {
        var options = Upstreams.WithLevels(
            [Upstreams.Server(8001), Upstreams.Server(8002)],
            [Upstreams.Server(8002), Upstreams.Server(8003, host: "::1")]);
        using var registry = Upstreams.Registry("api", options);

        var addresses = CheckupsResolver.AddressesOf(registry.Get("api"));

        Assert.Equal(new[] { "127.0.0.1:8001", "127.0.0.1:8002", "[::1]:8003" }, addresses.Select(a => a.Attributes.TryGetValue(ServerAttributes.ServerKey, out string? key) ? key : null));
        Assert.All(addresses, a => Assert.True(a.Attributes.TryGetValue(ServerAttributes.Upstream, out string? name) && name == "api"));
        Assert.Equal(("::1", 8003), (addresses[2].EndPoint.Host, addresses[2].EndPoint.Port));
    }

    [Fact]
    public void AddGrpcBalancing_Twice_RegistersEachFactoryOnce()
    {
        var services = new ServiceCollection();
        services.AddCheckups(_ => { }).AddGrpcBalancing().AddGrpcBalancing();
        using var provider = services.BuildServiceProvider();

        Assert.IsType<CheckupsResolverFactory>(Assert.Single(provider.GetServices<ResolverFactory>()));
        Assert.IsType<CheckupsLoadBalancerFactory>(Assert.Single(provider.GetServices<LoadBalancerFactory>()));
        Assert.Equal(("checkups", "checkups"), (provider.GetServices<ResolverFactory>().Single().Name, provider.GetServices<LoadBalancerFactory>().Single().Name));
    }

    [Fact]
    public void CreateChannel_WithoutAddGrpcBalancing_SaysWhatToCall()
    {
        var services = new ServiceCollection();
        services.AddCheckups(_ => { });
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<InvalidOperationException>(() => CheckupsGrpc.CreateChannel(provider, "api"));

        Assert.Contains("AddGrpcBalancing()", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CreateChannel_WithAnHttpClient_IsRefused()
    {
        using var provider = BalancedChannel.NewServices();
        using var http = new HttpClient();

        var error = Assert.Throws<ArgumentException>(() => CheckupsGrpc.CreateChannel(provider, "api", o => o.HttpClient = http));

        Assert.Contains("HttpHandler", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidPolicySettings_EveryCallFails_NamingTheProblem()
    {
        await using var backend = await GrpcBackend.StartAsync("A");
        var config = new LoadBalancingConfig(CheckupsGrpc.PolicyName);
        ((IDictionary<string, object>)config.Inner[CheckupsGrpc.PolicyName])["hashHeadr"] = "x-user";
        using var client = BalancedChannel.Create("api", Upstreams.WithServers(Upstreams.Server(backend.Port)), o => o.ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { config } });

        var error = await Assert.ThrowsAsync<RpcException>(() => client.CallAsync());

        Assert.Equal(StatusCode.Internal, error.StatusCode);
        Assert.Contains("'hashHeadr' is not a setting of the checkups policy", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(0, backend.Calls);
    }

    [Fact]
    public async Task Balancer_WithAnotherResolver_FailsSayingToUseTheCheckupsAddress()
    {
        await using var backend = await GrpcBackend.StartAsync("A");
        var services = new ServiceCollection();
        services.AddSingleton<ResolverFactory>(new StaticResolverFactory(_ => new[] { new BalancerAddress("127.0.0.1", backend.Port) }));
        services.AddCheckups(_ => { }).AddGrpcBalancing();
        using var provider = services.BuildServiceProvider();
        using var channel = GrpcChannel.ForAddress("static:///api", new GrpcChannelOptions
        {
            ServiceProvider = provider,
            Credentials = ChannelCredentials.Insecure,
            ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new CheckupsLoadBalancingConfig() } },
        });

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            channel.CreateCallInvoker().AsyncUnaryCall(GrpcBackend.Name, null, new CallOptions(deadline: DateTime.UtcNow + BalancedChannel.CallDeadline), "hi").ResponseAsync);

        Assert.Equal(StatusCode.Internal, error.StatusCode);
        Assert.Contains("checkups://<upstream>", error.Status.Detail, StringComparison.Ordinal);
    }
}
