using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Status;
using Checkups.TestUtils;
using Grpc.Core;
using Grpc.Net.Client.Configuration;
using Xunit.Abstractions;

namespace Checkups.Grpc.Tests;

/// <summary>gRPC channels balanced by Checkups, against three real gRPC servers on Kestrel (127.0.0.1, h2c, free ports).</summary>
public sealed class CheckupsGrpcBalancingTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly List<GrpcBackend> _backends = new();

    private GrpcBackend A => _backends[0];

    private GrpcBackend B => _backends[1];

    private GrpcBackend C => _backends[2];

    public async Task InitializeAsync()
    {
        foreach (string name in new[] { "A", "B", "C" })
        {
            _backends.Add(await GrpcBackend.StartAsync(name));
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var backend in _backends)
        {
            await backend.DisposeAsync();
        }
    }

    [Fact]
    public async Task Weights_OneTwoThree_SixHundredCalls_ShareByWeight()
    {
        using var client = BalancedChannel.Create("api", BalancedChannel.Upstream(_backends, 1, 2, 3));
        await client.WarmUpAsync("A", "B", "C");

        var (answers, failures) = await client.CallManyAsync(600);

        Assert.Empty(failures);
        Assert.InRange(answers["A"], 100 - 18, 100 + 18);
        Assert.InRange(answers["B"], 200 - 18, 200 + 18);
        Assert.InRange(answers["C"], 300 - 18, 300 + 18);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task HashKeyInHeader_SameKeySameServer_KeysSpreadOverEveryServer(bool headerFromPolicy)
    {
        var upstream = BalancedChannel.Upstream(_backends);
        upstream.Mode = headerFromPolicy ? BalancingModes.Hash : BalancingModes.HeaderHash;
        upstream.Hash.Header = headerFromPolicy ? null : "x-shard-key";
        using var client = BalancedChannel.Create("api", upstream, options =>
        {
            if (headerFromPolicy)
            {
                options.ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new CheckupsLoadBalancingConfig { HashHeader = "x-shard-key" } } };
            }
        });
        await client.WarmUpAsync("A", "B", "C");

        var placed = new Dictionary<string, string>();
        for (int i = 0; i < 60; i++)
        {
            string key = "user-" + i;
            placed[key] = await client.CallAsync(key);
            for (int again = 0; again < 4; again++)
            {
                Assert.Equal(placed[key], await client.CallAsync(key));
            }
        }

        Assert.Equal(new[] { "A", "B", "C" }, placed.Values.Distinct().Order());
    }

    [Fact]
    public async Task ServerStopped_CallsGoToTheOthers_AndNoCallFailsOnceItIsOut()
    {
        var upstream = BalancedChannel.Upstream(_backends);
        foreach (var server in upstream.Servers)
        {
            (server.MaxFails, server.FailTimeout) = (1, TimeSpan.FromSeconds(30));
        }

        using var client = BalancedChannel.Create("api", upstream);
        await client.WarmUpAsync("A", "B", "C");

        await B.StopAsync();

        // Until the channel and Checkups both know B is gone: a call that fails meanwhile is a transport failure on B,
        // which the call tracker reports (MaxFails 1 marks B err at once). Settled = 30 successes in a row.
        int failed = 0;
        int inRow = 0;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 3_000 && clock.Elapsed < TimeSpan.FromSeconds(60) && inRow < 30; i++)
        {
            try
            {
                Assert.NotEqual("B", await client.CallAsync());
                inRow++;
            }
            catch (RpcException)
            {
                failed++;
                inRow = 0;
            }
        }

        Assert.Equal(30, inRow);
        var b = Upstreams.StatusOf(client.Registry, B.Port);
        output.WriteLine($"after B stopped: {failed} call(s) failed; B is {b.Status} with {b.FailCount} failure(s)");
        Assert.True(failed == 0 || b.Status == HealthStatus.Err, $"{failed} call(s) failed on B, but B is {b.Status} with {b.FailCount} failure(s)");

        var (answers, failures) = await client.CallManyAsync(120);
        Assert.Empty(failures);
        Assert.Equal(new[] { "A", "C" }, answers.Keys.Order());
        Assert.InRange(answers["A"], 40, 80);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task UnavailableStatus_CountsAsFailure_ServerIsErrAfterMaxFails(bool inTrailers)
    {
        var upstream = BalancedChannel.Upstream(_backends);
        foreach (var server in upstream.Servers)
        {
            (server.MaxFails, server.FailTimeout) = (3, TimeSpan.FromSeconds(30));
        }

        using var client = BalancedChannel.Create("api", upstream);
        await client.WarmUpAsync("A", "B", "C");
        B.FailWith = StatusCode.Unavailable;
        var method = inTrailers ? GrpcBackend.Stream : GrpcBackend.Name;

        // Round robin over three: B is picked every third call until its third failure marks it err.
        var (answers, failures) = await client.CallManyAsync(30, method: method);

        Assert.Equal(3, failures.Count);
        Assert.All(failures, failure => Assert.Contains("B fails with Unavailable", failure, StringComparison.Ordinal));
        Assert.Equal(HealthStatus.Err, Upstreams.StatusOf(client.Registry, B.Port).Status);
        Assert.Equal(27, answers["A"] + answers["C"]);
        var (after, failuresAfter) = await client.CallManyAsync(60, method: method);
        Assert.Empty(failuresAfter);
        Assert.DoesNotContain("B", after.Keys);
    }

    [Fact]
    public async Task CallsReset_TransportFailuresReportedByTheTracker_ServerIsErrAfterMaxFails()
    {
        var upstream = BalancedChannel.Upstream(_backends);
        foreach (var server in upstream.Servers)
        {
            (server.MaxFails, server.FailTimeout) = (2, TimeSpan.FromSeconds(30));
        }

        using var client = BalancedChannel.Create("api", upstream);
        await client.WarmUpAsync("A", "B", "C");
        B.ResetCalls = true;

        var (_, failures) = await client.CallManyAsync(30);

        output.WriteLine(string.Join(Environment.NewLine, failures));
        Assert.Equal(2, failures.Count);
        var b = Upstreams.StatusOf(client.Registry, B.Port);
        Assert.Equal((HealthStatus.Err, 0), (b.Status, b.InFlight));
        var (after, failuresAfter) = await client.CallManyAsync(60);
        Assert.Empty(failuresAfter);
        Assert.DoesNotContain("B", after.Keys);
    }

    [Fact]
    public async Task GrpcRetryPolicy_EachAttemptIsPickedAgain_NoCallFails_AndTheFailingServerIsErr()
    {
        var upstream = BalancedChannel.Upstream(_backends);
        foreach (var server in upstream.Servers)
        {
            (server.MaxFails, server.FailTimeout) = (3, TimeSpan.FromSeconds(30));
        }

        using var client = BalancedChannel.Create("api", upstream, options => options.ServiceConfig = new ServiceConfig
        {
            LoadBalancingConfigs = { new CheckupsLoadBalancingConfig() },
            MethodConfigs =
            {
                new MethodConfig
                {
                    Names = { MethodName.Default },
                    RetryPolicy = new RetryPolicy
                    {
                        MaxAttempts = 3,
                        InitialBackoff = TimeSpan.FromMilliseconds(1),
                        MaxBackoff = TimeSpan.FromMilliseconds(5),
                        BackoffMultiplier = 1,
                        RetryableStatusCodes = { StatusCode.Unavailable },
                    },
                },
            },
        });
        await client.WarmUpAsync("A", "B", "C");
        B.FailWith = StatusCode.Unavailable;
        int callsToB = B.Calls;

        var (answers, failures) = await client.CallManyAsync(60);

        Assert.Empty(failures);
        Assert.Equal(60, answers["A"] + answers["C"]);
        Assert.Equal(3, B.Calls - callsToB);
        Assert.Equal(HealthStatus.Err, Upstreams.StatusOf(client.Registry, B.Port).Status);
    }

    [Fact]
    public async Task ApplicationStatus_NotFound_IsNotAServerFailure()
    {
        var upstream = BalancedChannel.Upstream(_backends);
        foreach (var server in upstream.Servers)
        {
            (server.MaxFails, server.FailTimeout) = (1, TimeSpan.FromSeconds(30));
        }

        using var client = BalancedChannel.Create("api", upstream);
        await client.WarmUpAsync("A", "B", "C");
        B.FailWith = StatusCode.NotFound;

        var (_, failures) = await client.CallManyAsync(30);

        Assert.Equal(10, failures.Count);
        Assert.All(failures, failure => Assert.Contains("NotFound", failure, StringComparison.Ordinal));
        var b = Upstreams.StatusOf(client.Registry, B.Port);
        Assert.Equal((HealthStatus.Ok, 0), (b.Status, b.FailCount));
    }

    [Fact]
    public async Task FailureStatusCodes_FromThePolicy_ReplaceTheDefaults()
    {
        var upstream = BalancedChannel.Upstream(_backends);
        foreach (var server in upstream.Servers)
        {
            (server.MaxFails, server.FailTimeout) = (1, TimeSpan.FromSeconds(30));
        }

        using var client = BalancedChannel.Create("api", upstream, options => options.ServiceConfig = new ServiceConfig
        {
            LoadBalancingConfigs = { new CheckupsLoadBalancingConfig { FailureStatusCodes = [StatusCode.Internal] } },
        });
        await client.WarmUpAsync("A", "B", "C");
        B.FailWith = StatusCode.Unavailable;
        C.FailWith = StatusCode.Internal;

        await client.CallManyAsync(12);

        Assert.Equal(HealthStatus.Ok, Upstreams.StatusOf(client.Registry, B.Port).Status);
        Assert.Equal(HealthStatus.Err, Upstreams.StatusOf(client.Registry, C.Port).Status);
    }

    [Fact]
    public async Task RegistryUpdate_AddedServerGetsCalls_RemovedServerNoMore_NoCallFails()
    {
        using var client = BalancedChannel.Create("api", BalancedChannel.Upstream(_backends.Take(2)));
        await client.WarmUpAsync("A", "B");

        client.Registry.Update("api", BalancedChannel.Upstream(_backends));
        var failures = new List<string>();
        var (reached, failed) = await CallUntilAsync(client, answers => answers.Contains("C"));
        failures.AddRange(failed);
        Assert.True(reached, "C, added to the upstream, never answered");

        client.Registry.Update("api", BalancedChannel.Upstream(_backends.Skip(1)));
        int callsToA = A.Calls;
        var (answers, failedAfter) = await client.CallManyAsync(90);
        failures.AddRange(failedAfter);

        Assert.Empty(failures);
        Assert.Equal(callsToA, A.Calls);
        Assert.Equal(new[] { "B", "C" }, answers.Keys.Order());
    }

    [Fact]
    public async Task UnknownUpstream_CallFailsNamingIt_ThenWorksOnceItExists()
    {
        using var client = BalancedChannel.Create("payments", upstream: null);

        var error = await Assert.ThrowsAsync<RpcException>(() => client.CallAsync());

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains("no upstream named 'payments'", error.Status.Detail, StringComparison.Ordinal);

        client.Registry.Update("payments", BalancedChannel.Upstream(_backends.Take(1)));
        var (reached, _) = await CallUntilAsync(client, answers => answers.Contains("A"));
        Assert.True(reached, "the upstream was created, but its server never answered");
    }

    [Fact]
    public async Task ServerNotListening_IsPassedOver_NotBlamed_AndNoCallFails()
    {
        int closedPort = FreePort();
        var upstream = Upstreams.WithServers(Upstreams.Server(A.Port, maxFails: 1), Upstreams.Server(closedPort, maxFails: 1));
        using var client = BalancedChannel.Create("api", upstream);
        await client.WarmUpAsync("A");

        var (answers, failures) = await client.CallManyAsync(60);

        Assert.Empty(failures);
        Assert.Equal(60, answers["A"]);
        var closed = Upstreams.StatusOf(client.Registry, closedPort);
        Assert.Equal((HealthStatus.Ok, 0, 0), (closed.Status, closed.FailCount, closed.InFlight));
    }

    [Fact]
    public async Task EveryCallEnds_NoLeaseLeftInFlight_AfterSuccessesFailuresStreamsAndCancellations()
    {
        using var client = BalancedChannel.Create("api", BalancedChannel.Upstream(_backends));
        await client.WarmUpAsync("A", "B", "C");
        C.FailWith = StatusCode.NotFound;
        await client.CallManyAsync(12);
        await client.CallManyAsync(12, method: GrpcBackend.Stream);

        // A call cancelled by its deadline, and a stream let go before its end.
        var hang = client.Invoker.AsyncUnaryCall(GrpcBackend.Hang, null, new CallOptions(deadline: DateTime.UtcNow.AddMilliseconds(300)), "hi");
        var cancelled = await Assert.ThrowsAsync<RpcException>(() => hang.ResponseAsync);
        Assert.Equal(StatusCode.DeadlineExceeded, cancelled.StatusCode);
        hang.Dispose();
        var stream = client.Invoker.AsyncServerStreamingCall(GrpcBackend.Stream, null, new CallOptions(deadline: DateTime.UtcNow + BalancedChannel.CallDeadline), "hi");
        Assert.True(await stream.ResponseStream.MoveNext(default));
        stream.Dispose();

        // Leases end as calls end; the last ones (the cancelled, the abandoned) as Grpc.Net.Client lets their responses go.
        var clock = Stopwatch.StartNew();
        int inFlight = int.MaxValue;
        for (int i = 0; i < 500 && clock.Elapsed < TimeSpan.FromSeconds(30) && inFlight > 0; i++)
        {
            inFlight = _backends.Sum(b => Upstreams.StatusOf(client.Registry, b.Port).InFlight);
            if (inFlight > 0)
            {
                await Task.Delay(20);
            }
        }

        Assert.Equal(0, inFlight);
    }

    /// <summary>Calls until <paramref name="done"/> holds for the servers that answered, bounded by a count and a deadline.</summary>
    private static async Task<(bool Reached, List<string> Failures)> CallUntilAsync(BalancedChannel client, Func<HashSet<string>, bool> done)
    {
        var answered = new HashSet<string>();
        var failures = new List<string>();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 5_000 && clock.Elapsed < TimeSpan.FromSeconds(60) && !done(answered); i++)
        {
            try
            {
                answered.Add(await client.CallAsync());
            }
            catch (RpcException ex)
            {
                failures.Add($"{ex.StatusCode} {ex.Status.Detail}");
                await client.UntilReadyAsync();
            }
        }

        return (done(answered), failures);
    }

    /// <summary>A port nothing listens on: bound by the system, then released.</summary>
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
