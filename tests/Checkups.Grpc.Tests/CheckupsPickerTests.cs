using System;
using System.Collections.Frozen;
using System.Collections.Generic;
using System.Net.Http;
using Checkups.Configuration;
using Checkups.Execution;
using Checkups.Registry;
using Checkups.Status;
using Checkups.TestUtils;
using Grpc.Core;
using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Checkups.Grpc.Tests;

/// <summary>The picker's paths that need no connection: leases given back, waits and failures, hash keys.</summary>
public sealed class CheckupsPickerTests
{
    private static readonly FrozenDictionary<string, Subchannel> NoneReady = new Dictionary<string, Subchannel>().ToFrozenDictionary();

    private static CheckupsPicker Picker(UpstreamRegistry registry, Dictionary<string, ConnectivityState>? notReady = null, string? hashHeader = null, string upstream = "api")
    {
        var settings = hashHeader is null
            ? BalancerSettings.Default(new FakeTimeProvider())
            : BalancerSettings.Read(new Dictionary<string, object> { ["hashHeader"] = hashHeader }, new FakeTimeProvider(), out _);
        return new CheckupsPicker(registry, upstream, NoneReady, (notReady ?? new()).ToFrozenDictionary(), settings, NullLogger.Instance);
    }

    private static int InFlight(UpstreamRegistry registry, int port) => Upstreams.StatusOf(registry, port).InFlight;

    [Fact]
    public void Pick_SameRequestPickedAgain_GivesTheFirstLeaseBack()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(Upstreams.Server(8001)));
        var first = new CheckupsCallTracker(registry.AcquireLease("api"), BalancerSettings.Default(new FakeTimeProvider()));
        using var request = new HttpRequestMessage(HttpMethod.Post, "http://loadbalancer.temporary.invalid/test.Backend/Name");
        request.Options.Set(CheckupsPicker.TrackerKey, first);
        Assert.Equal(1, InFlight(registry, 8001));

        var result = Picker(registry).Pick(new PickContext { Request = request });

        // The second pick found no connection (the server is new to the channel): it waits, holding no lease either.
        Assert.Equal(PickResultType.Queue, result.Type);
        Assert.True(first.IsFinished);
        Assert.Equal(0, InFlight(registry, 8001));
    }

    [Fact]
    public void Pick_StartedCall_IsNotGivenBack()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(Upstreams.Server(8001)));
        var started = new CheckupsCallTracker(registry.AcquireLease("api"), BalancerSettings.Default(new FakeTimeProvider()));
        started.Start();

        started.ReleaseIfUnstarted();

        Assert.False(started.IsFinished);
        Assert.Equal(1, InFlight(registry, 8001));
        started.Complete(new CompletionContext());
        Assert.Equal(0, InFlight(registry, 8001));
    }

    [Fact]
    public void Pick_EveryServerFailedToConnect_FailsUnavailable_NamingThem_WithoutBlame()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(Upstreams.Server(8001, maxFails: 1), Upstreams.Server(8002, maxFails: 1)));
        var picker = Picker(registry, new() { ["127.0.0.1:8001"] = ConnectivityState.TransientFailure, ["127.0.0.1:8002"] = ConnectivityState.TransientFailure });

        var result = picker.Pick(new PickContext());

        Assert.Equal(PickResultType.Fail, result.Type);
        Assert.Equal(StatusCode.Unavailable, result.Status.StatusCode);
        Assert.Contains("'api'", result.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:8001 TransientFailure", result.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:8002 TransientFailure", result.Status.Detail, StringComparison.Ordinal);
        foreach (int port in new[] { 8001, 8002 })
        {
            var status = Upstreams.StatusOf(registry, port);
            Assert.Equal((HealthStatus.Ok, 0, 0), (status.Status, status.FailCount, status.InFlight));
        }
    }

    [Fact]
    public void Pick_OneServerStillConnecting_Waits()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(Upstreams.Server(8001), Upstreams.Server(8002)));
        var picker = Picker(registry, new() { ["127.0.0.1:8001"] = ConnectivityState.TransientFailure, ["127.0.0.1:8002"] = ConnectivityState.Connecting });

        Assert.Equal(PickResultType.Queue, picker.Pick(new PickContext()).Type);
    }

    [Fact]
    public void Pick_Retired_Waits_WithoutALease()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(Upstreams.Server(8001)));
        var picker = Picker(registry);
        picker.Retire();

        Assert.Equal(PickResultType.Queue, picker.Pick(new PickContext()).Type);
        Assert.Equal(0, InFlight(registry, 8001));
    }

    [Fact]
    public void Pick_UpstreamRemoved_FailsNamingIt()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(Upstreams.Server(8001)));
        registry.Delete("api");

        var result = Picker(registry).Pick(new PickContext());

        Assert.Equal((PickResultType.Fail, StatusCode.Unavailable), (result.Type, result.Status.StatusCode));
        Assert.Contains("no upstream named 'api'", result.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Pick_EveryServerDown_FailsNamingTheUpstream()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(Upstreams.Server(8001, down: true)));

        var result = Picker(registry).Pick(new PickContext());

        Assert.Equal((PickResultType.Fail, StatusCode.Unavailable), (result.Type, result.Status.StatusCode));
        Assert.Contains("'api' has no selectable server", result.Status.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(BalancingModes.Hash, null, "x-user", "u1")]
    [InlineData(BalancingModes.Hash, "x-tenant", "x-user", "t1")]
    [InlineData(BalancingModes.HeaderHash, null, "x-user", "u1")]
    [InlineData(BalancingModes.HeaderHash, null, "x-missing", "/test.Backend/Name")]
    [InlineData(BalancingModes.UrlHash, null, null, "/test.Backend/Name")]
    [InlineData(BalancingModes.Hash, null, null, "")]
    [InlineData(BalancingModes.WeightedRoundRobin, null, null, "")]
    public void HashKey_PolicyHeader_ThenUpstreamHeader_ThenPathForPathModes(string mode, string? policyHeader, string? upstreamHeader, string expected)
    {
        var options = Upstreams.WithServers(Upstreams.Server(8001));
        options.Mode = mode;
        options.Hash.Header = upstreamHeader;
        using var registry = Upstreams.Registry("api", options);
        using var request = new HttpRequestMessage(HttpMethod.Post, "http://loadbalancer.temporary.invalid/test.Backend/Name");
        request.Headers.TryAddWithoutValidation("x-user", "u1");
        request.Headers.TryAddWithoutValidation("x-tenant", "t1");

        string key = Picker(registry, hashHeader: policyHeader).HashKey(request, registry.Get("api")).ToString();

        Assert.Equal(expected, key);
    }
}
