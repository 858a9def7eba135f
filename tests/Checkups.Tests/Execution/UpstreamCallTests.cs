using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Threading;
using Checkups.Configuration;
using Checkups.Execution;
using Checkups.Model;
using Checkups.Registry;
using Checkups.TestUtils;
using Microsoft.Extensions.Time.Testing;

namespace Checkups.Tests.Execution;

/// <summary>The attempt engine, driven step by step as a caller that owns its I/O drives it.</summary>
public sealed class UpstreamCallTests
{
    private readonly FakeTimeProvider _time = new();

    private UpstreamRegistry Registry(Action<UpstreamOptions>? configure = null, int servers = 3)
    {
        var upstream = Upstreams.WithServers(Enumerable.Range(0, servers).Select(i => Upstreams.Server(8001 + i)).ToArray());
        configure?.Invoke(upstream);
        return Upstreams.Registry("api", upstream, _time);
    }

    private static int InFlight(UpstreamRegistry registry) =>
        registry.Get("api").Clusters.SelectMany(c => c.Servers).Sum(s => s.Health.InFlight);

    /// <summary>Fails every attempt the call gives, with the same error; returns the ports tried.</summary>
    private static List<int> FailEvery(UpstreamCall call, Exception error)
    {
        var ports = new List<int>();
        for (int i = 0; i < 100 && call.TryNext(out var lease); i++)
        {
            ports.Add(lease.Server.Port);
            lease.Complete(LeaseOutcome.Failure, TimeSpan.FromMilliseconds(1), error);
        }

        return ports;
    }

    [Fact]
    public void TryNext_EveryAttemptFails_StopsAtTheTryLimit_NamingEachAttempt()
    {
        using var registry = Registry(upstream => upstream.Try = 2);
        using var call = registry.BeginCall("api");

        var ports = FailEvery(call, new HttpRequestException("refused"));

        Assert.Equal(2, ports.Distinct().Count());
        Assert.Equal(CallStopReason.TryLimitReached, call.StopReason);
        var error = Assert.IsType<NoServerAvailableException>(call.ToException());
        Assert.Equal(2, error.Attempts.Count);
        Assert.StartsWith("Upstream 'api': no servers available (try limit of 2 reached); 2 attempt(s): 127.0.0.1:", error.Message, StringComparison.Ordinal);
        Assert.Contains("HttpRequestException: refused", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, InFlight(registry));
    }

    [Fact]
    public void Lease_IsTheLeaseOut_CompletingItThroughTheCallEndsTheAttempt_ThenThereIsNone()
    {
        using var registry = Registry(upstream => upstream.Try = 2);
        using var call = registry.BeginCall("api");
        Assert.Null(call.Lease.Server);

        Assert.True(call.TryNext(out var lease));
        Assert.Same(lease.Server, call.Lease.Server);
        Assert.False(call.Lease.IsCompleted);

        // Completing the call's copy is completing the attempt: the original is completed too, and the call goes on.
        call.Lease.Complete(LeaseOutcome.Failure, TimeSpan.FromMilliseconds(1), new HttpRequestException("refused"));
        Assert.True(lease.IsCompleted);
        Assert.Null(call.Lease.Server);
        Assert.Single(call.FailedAttempts);
        Assert.True(call.TryNext(out var second));
        Assert.NotSame(lease.Server, second.Server);
        Assert.Same(second.Server, call.Lease.Server);
    }

    [Fact]
    public void TryNext_MoreTriesThanServers_StopsWhenEveryServerWasTried()
    {
        using var registry = Registry(upstream => upstream.Try = 10);
        using var call = registry.BeginCall("api", "k", new CallSettings { Try = 10 });

        var ports = FailEvery(call, new HttpRequestException("refused"));

        Assert.Equal(new[] { 8001, 8002, 8003 }, ports.Order());
        Assert.Equal(CallStopReason.EveryServerTried, call.StopReason);
        Assert.Contains("every selectable server was tried", call.ToException().Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryNext_TryTimeoutRunsOut_StopsWithTheTryTimeout_AndNoAttemptOutlivesIt()
    {
        using var registry = Registry(upstream => upstream.TryTimeout = TimeSpan.FromSeconds(2));
        using var call = registry.BeginCall("api");

        Assert.True(call.TryNext(out var first));
        var token = call.StartAttemptTimeout(TimeSpan.FromSeconds(30));
        _time.Advance(TimeSpan.FromMilliseconds(1999));
        Assert.False(token.IsCancellationRequested);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        // Cut to the rest of the try timeout, not the attempt's own 30 s, and the error says so.
        Assert.True(token.IsCancellationRequested);
        Assert.True(call.AttemptTimedOut);
        var timeout = call.CreateAttemptTimeoutError();
        Assert.Equal($"no response from {first.Server.Key} within 2000 ms, the rest of the try timeout of 2000 ms", timeout.Message);
        first.Complete(LeaseOutcome.Failure, TimeSpan.FromSeconds(2), timeout);

        Assert.False(call.TryNext(out _));
        Assert.Equal(CallStopReason.TryTimeoutExceeded, call.StopReason);
        var error = Assert.IsType<TryTimeoutException>(call.ToException());
        Assert.Equal(TimeSpan.FromSeconds(2), error.TryTimeout);
        Assert.Same(timeout, Assert.Single(error.Attempts).Exception);
    }

    [Fact]
    public void StartAttemptTimeout_TheAttemptsOwnIsShorter_TheTokenFiresAtIt_AndTheCallerCancelsIt()
    {
        using var registry = Registry(upstream => upstream.TryTimeout = TimeSpan.FromSeconds(10));
        using var call = registry.BeginCall("api");
        Assert.True(call.TryNext(out var lease));
        var token = call.StartAttemptTimeout(TimeSpan.FromMilliseconds(500));

        _time.Advance(TimeSpan.FromMilliseconds(500));

        Assert.True(token.IsCancellationRequested);
        Assert.EndsWith("within 500 ms", call.CreateAttemptTimeoutError().Message, StringComparison.Ordinal);
        lease.Complete(LeaseOutcome.Failure);

        using var caller = new CancellationTokenSource();
        Assert.True(call.TryNext(out var second));
        var secondToken = call.StartAttemptTimeout(TimeSpan.FromSeconds(5), caller.Token);
        caller.Cancel();
        Assert.True(secondToken.IsCancellationRequested);
        second.Complete(LeaseOutcome.Cancelled);
        Assert.False(call.TryNext(out _));
        Assert.Null(call.StopReason);
    }

    [Fact]
    public void TryNext_RetryGateRefuses_StopsWithItsReason_AfterTheFirstAttemptOnly()
    {
        var gate = new CountingGate(allow: 1);
        using var registry = Registry(upstream => upstream.Try = 3);
        using var call = registry.BeginCall("api", default, new CallSettings { RetryGate = gate });

        var ports = FailEvery(call, new HttpRequestException("refused"));

        Assert.Equal(2, ports.Count);
        Assert.Equal(2, gate.Asked);
        Assert.Equal(CallStopReason.RetryRefused, call.StopReason);
        Assert.Contains("no servers available (the test gate says no)", call.ToException().Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryNext_TheTryLimitComesBeforeTheGate_SoARetryThatWillNotBeMadeTakesNothing()
    {
        var gate = new CountingGate(allow: 10);
        using var registry = Registry(upstream => upstream.Try = 1);
        using var call = registry.BeginCall("api", default, new CallSettings { RetryGate = gate });

        FailEvery(call, new HttpRequestException("refused"));

        Assert.Equal(0, gate.Asked);
        Assert.Equal(CallStopReason.TryLimitReached, call.StopReason);
    }

    [Fact]
    public void TryNext_ClusterOrder_GoesToTheNextClusterWhenOneHasNoUntriedServer()
    {
        var upstream = Upstreams.WithLevels(new[] { Upstreams.Server(8001) }, new[] { Upstreams.Server(9001), Upstreams.Server(9002) });
        upstream.Try = 3;
        using var registry = Upstreams.Registry("api", upstream, _time);
        using var call = registry.BeginCall("api", default, new CallSettings { ClusterOrder = new[] { "2", "1" } });

        var ports = FailEvery(call, new HttpRequestException("refused"));

        Assert.Equal(new[] { 9001, 9002 }, ports.Take(2).Order());
        Assert.Equal(8001, ports[2]);
    }

    [Fact]
    public void TryNext_NoSelectableServer_StopsAtOnce_NamingTheClusterOrder()
    {
        using var registry = Registry(upstream => upstream.Servers.ToList().ForEach(s => s.Down = true));
        using var call = registry.BeginCall("api", default, new CallSettings { ClusterOrder = new[] { "1" } });

        Assert.False(call.TryNext(out _));

        Assert.Equal(CallStopReason.NoSelectableServer, call.StopReason);
        Assert.Equal("Upstream 'api': no servers available (no selectable server in clusters [1]); no server was tried.", call.ToException().Message);
    }

    [Fact]
    public void TryNext_UpstreamRemovedDuringTheCall_Stops_AndReplacedUpstreamServesTheRetry()
    {
        using var registry = Registry();
        using (var removed = registry.BeginCall("api"))
        {
            Assert.True(removed.TryNext(out var lease));
            registry.Delete("api");
            lease.Complete(LeaseOutcome.Failure);
            Assert.False(removed.TryNext(out _));
            Assert.Equal(CallStopReason.UpstreamRemoved, removed.StopReason);
        }

        registry.Update("api", Upstreams.WithServers(Upstreams.Server(8001), Upstreams.Server(8002)));
        using var replaced = registry.BeginCall("api");
        Assert.True(replaced.TryNext(out var first));
        registry.Update("api", Upstreams.WithServers(Upstreams.Server(8001), Upstreams.Server(8002), Upstreams.Server(8003)));
        first.Complete(LeaseOutcome.Failure);
        Assert.True(replaced.TryNext(out var second));

        // From the upstream as it is now, skipping the server this call tried (same host and port).
        Assert.NotEqual(first.Server.Port, second.Server.Port);
        Assert.Same(registry.Get("api"), replaced.Upstream);
        second.Complete(LeaseOutcome.Success);
        Assert.True(replaced.Succeeded);
        Assert.False(replaced.TryNext(out _));
    }

    [Fact]
    public void TryNext_BeforeTheLeaseIsCompleted_Throws_AndDisposeReleasesTheLeaseWithoutAVerdict()
    {
        using var registry = Registry(upstream => upstream.Servers.ToList().ForEach(s => s.MaxFails = 1));
        var call = registry.BeginCall("api");
        Assert.True(call.TryNext(out var lease));
        var copy = lease;

        Assert.Throws<InvalidOperationException>(() => call.TryNext(out _));
        Assert.Equal(1, InFlight(registry));
        call.Dispose();

        Assert.Equal(0, InFlight(registry));
        Assert.True(copy.IsCompleted);
        Assert.Throws<InvalidOperationException>(() => copy.Complete(LeaseOutcome.Failure));
        Assert.All(registry.GetStatus().Upstreams["api"].Clusters[0].Servers, s => Assert.Equal(0, s.FailCount));
        Assert.Throws<ObjectDisposedException>(() => call.TryNext(out _));
    }

    [Fact]
    public void ACompletedLeaseCopy_StaysInert_WhenItsCallIsReusedFromThePool()
    {
        using var registry = Registry();
        var first = registry.BeginCall("api");
        Assert.True(first.TryNext(out var old));
        var stale = old;
        old.Complete(LeaseOutcome.Success);
        first.Dispose();

        using var second = registry.BeginCall("api");
        Assert.True(second.TryNext(out var current));

        Assert.Throws<InvalidOperationException>(() => stale.Complete(LeaseOutcome.Failure));
        Assert.False(current.IsCompleted);
        current.Complete(LeaseOutcome.Success);
        Assert.Equal(0, InFlight(registry));
    }

    [Fact]
    public void BeginCall_TryBelowOne_Throws_AndUnknownUpstreamThrows()
    {
        using var registry = Registry();

        Assert.Throws<ArgumentOutOfRangeException>(() => registry.BeginCall("api", default, new CallSettings { Try = 0 }));
        Assert.Throws<UpstreamNotFoundException>(() => registry.BeginCall("nope"));
    }

    [Fact]
    public void ACallThatSucceedsFirstTime_AllocatesNothing_OnceWarm()
    {
        using var registry = Registry();
        void OneCall()
        {
            using var call = registry.BeginCall("api", "key", default);
            call.TryNext(out var lease);
            lease.Complete(LeaseOutcome.Success, TimeSpan.FromMilliseconds(1));
        }

        for (int i = 0; i < 100; i++)
        {
            OneCall();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            OneCall();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private sealed class CountingGate(int allow) : IRetryGate
    {
        public int Asked { get; private set; }

        public string RefusalReason => "the test gate says no";

        public bool TryAcquireRetry(UpstreamCall upstreamCall)
        {
            Asked++;
            return Asked <= allow;
        }
    }
}
