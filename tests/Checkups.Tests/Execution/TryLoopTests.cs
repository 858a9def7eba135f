using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Execution;
using Checkups.Model;
using Checkups.Registry;
using Checkups.TestUtils;
using Microsoft.Extensions.Time.Testing;

namespace Checkups.Tests.Execution;

public sealed class TryLoopTests
{
    private readonly FakeTimeProvider _time = new();

    private static ServerOptions S(int port, int maxFails = 0) => Upstreams.Server(port, maxFails: maxFails);

    private static ValueTask<int> FailOn(Server server, ISet<int> failing, List<int> calls)
    {
        calls.Add(server.Port);
        return failing.Contains(server.Port)
            ? ValueTask.FromException<int>(new InvalidOperationException($"refused by {server.Port}"))
            : ValueTask.FromResult(server.Port);
    }

    [Fact]
    public async Task ExecuteAsync_Level1AllFailing_UsesLevel2()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithLevels(new[] { S(8001), S(8002) }, new[] { S(9001) }), _time);
        var calls = new List<int>();

        int served = await registry.ExecuteAsync("api", (p, _) => FailOn(p, new HashSet<int> { 8001, 8002 }, calls));

        Assert.Equal(9001, served);
        Assert.Equal(new[] { 8001, 8002, 9001 }, calls.Order().ToArray());
        Assert.Equal(9001, calls[^1]);
    }

    /// <summary>Starts a call whose every attempt fails once released; returns when its first attempt is in flight.</summary>
    private static async Task<(Task<int> Call, List<int> Calls, TaskCompletionSource Release)> HeldFailingCallAsync(UpstreamRegistry registry)
    {
        var calls = new List<int>();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var inFlight = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = registry.ExecuteAsync("api", async (p, _) =>
        {
            calls.Add(p.Port);
            inFlight.TrySetResult();
            await release.Task;
            return p.Port > 0 ? throw new InvalidOperationException($"refused by {p.Port}") : p.Port;
        }).AsTask();
        await inFlight.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return (call, calls, release);
    }

    [Fact]
    public async Task ExecuteAsync_ServersReplacedDuringTheCall_GuardAndRetryJudgeTheCurrentUpstream()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(S(8001, maxFails: 1), S(8002, maxFails: 1)), _time);
        var (call, calls, release) = await HeldFailingCallAsync(registry);
        int first = calls[0];
        registry.UpdateServers("api", new[] { S(first, maxFails: 1) });
        release.SetResult();

        var error = await Assert.ThrowsAsync<NoServerAvailableException>(() => call.WaitAsync(TimeSpan.FromSeconds(60)));

        // The server that failed is the only one the upstream has now: the last-ok guard keeps it selectable, and the call
        // does not retry on the server the update removed.
        Assert.Equal(new[] { first }, calls);
        Assert.NotEqual("err", Upstreams.StatusOf(registry, first).Status);
        Assert.Equal(first, registry.SelectPeer("api").Port);
        Assert.Contains("every selectable server was tried", error.Message, StringComparison.Ordinal);
        Assert.Equal(CallStopReason.EveryServerTried, error.Reason);
    }

    [Fact]
    public async Task ExecuteAsync_UpstreamRemovedDuringTheCall_StopsWithoutRetrying()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(S(8001), S(8002)), _time);
        var (call, calls, release) = await HeldFailingCallAsync(registry);
        registry.Delete("api");
        release.SetResult();

        var error = await Assert.ThrowsAsync<NoServerAvailableException>(() => call.WaitAsync(TimeSpan.FromSeconds(60)));

        Assert.Single(calls);
        Assert.Contains("the upstream was removed during the call", error.Message, StringComparison.Ordinal);
        Assert.Equal(CallStopReason.UpstreamRemoved, error.Reason);
    }

    [Fact]
    public async Task ExecuteAsync_TryTimeoutMaxValue_MeansNoLimit_AndRetries()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(S(8001), S(8002)), _time);
        var calls = new List<int>();

        int served = await registry.ExecuteAsync("api", (p, _) => FailOn(p, new HashSet<int> { 8001 }, calls), new ExecuteOptions { TryTimeout = TimeSpan.MaxValue });

        Assert.Equal(8002, served);
        Assert.Equal(new[] { 8001, 8002 }, calls);
    }

    [Fact]
    public async Task ExecuteAsync_Level1Healthy_NeverTouchesLevel2()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithLevels(new[] { S(8001), S(8002) }, new[] { S(9001) }), _time);
        var calls = new List<int>();

        for (int i = 0; i < 20; i++)
        {
            await registry.ExecuteAsync("api", (p, _) => FailOn(p, new HashSet<int>(), calls));
        }

        Assert.DoesNotContain(9001, calls);
    }

    [Fact]
    public async Task ExecuteAsync_ClusterOrderByNames_TriesNamedClustersInCallerOrder()
    {
        var upstream = new UpstreamOptions();
        upstream.NamedClusters["dc1"] = new ClusterOptions { Servers = { S(8001) } };
        upstream.NamedClusters["dc2"] = new ClusterOptions { Servers = { S(8002) } };
        upstream.NamedClusters["dc3"] = new ClusterOptions { Servers = { S(8003) } };
        using var registry = Upstreams.Registry("api", upstream, _time);
        var calls = new List<int>();

        int served = await registry.ExecuteAsync(
            "api",
            (p, _) => FailOn(p, new HashSet<int> { 8003 }, calls),
            new ExecuteOptions { ClusterOrder = new[] { "dc3", "missing", "dc2", "dc1" } });

        Assert.Equal(8002, served);
        Assert.Equal(new[] { 8003, 8002 }, calls);
    }

    [Fact]
    public async Task ExecuteAsync_ClusterOrderByLevelNumbers_TriesLevelsInCallerOrder()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithLevels(new[] { S(8001) }, new[] { S(8002) }, new[] { S(8003) }), _time);
        var calls = new List<int>();

        int served = await registry.ExecuteAsync(
            "api",
            (p, _) => FailOn(p, new HashSet<int> { 8003 }, calls),
            new ExecuteOptions { ClusterOrder = new[] { "3", "1" } });

        Assert.Equal(8001, served);
        Assert.Equal(new[] { 8003, 8001 }, calls);
    }

    [Fact]
    public async Task ExecuteAsync_TryLimitReached_ThrowsNamingUpstreamAndEveryAttempt()
    {
        var upstream = Upstreams.WithServers(S(8001), S(8002), S(8003));
        upstream.Try = 2;
        using var registry = Upstreams.Registry("api", upstream, _time);
        var calls = new List<int>();

        var error = await Assert.ThrowsAsync<NoServerAvailableException>(
            () => registry.ExecuteAsync("api", (p, _) => FailOn(p, new HashSet<int> { 8001, 8002, 8003 }, calls)).AsTask());

        Assert.Equal(2, calls.Count);
        Assert.Equal("api", error.Upstream);
        Assert.Equal(calls, error.Attempts.Select(a => a.Server.Port));
        Assert.StartsWith("Upstream 'api': no servers available (try limit of 2 reached); 2 attempt(s): 127.0.0.1:", error.Message, StringComparison.Ordinal);
        Assert.Equal(CallStopReason.TryLimitReached, error.Reason);
        Assert.Contains($"InvalidOperationException: refused by {calls[0]}", error.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(error.InnerException);
    }

    [Fact]
    public async Task ExecuteAsync_EveryServerFails_TriesEachOnceAndSaysSo()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(S(8001), S(8002), S(8003)), _time);
        var calls = new List<int>();
        var options = new ExecuteOptions { Try = 10 };

        var error = await Assert.ThrowsAsync<NoServerAvailableException>(
            () => registry.ExecuteAsync("api", (p, _) => FailOn(p, new HashSet<int> { 8001, 8002, 8003 }, calls), options).AsTask());

        Assert.Equal(new[] { 8001, 8002, 8003 }, calls.Order().ToArray());
        Assert.Contains("every selectable server was tried", error.Message, StringComparison.Ordinal);
        Assert.Equal(CallStopReason.EveryServerTried, error.Reason);
    }

    [Fact]
    public async Task ExecuteAsync_DefaultTry_IsNumberOfServersOfAllLevels()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithLevels(new[] { S(8001), S(8002) }, new[] { S(9001) }), _time);

        Assert.Equal(3, registry.Get("api").Try);
        var calls = new List<int>();
        await Assert.ThrowsAsync<NoServerAvailableException>(
            () => registry.ExecuteAsync("api", (p, _) => FailOn(p, new HashSet<int> { 8001, 8002, 9001 }, calls)).AsTask());
        Assert.Equal(3, calls.Count);
    }

    [Fact]
    public async Task ExecuteAsync_TryTimeoutElapsed_StopsWithTryTimeoutError()
    {
        var upstream = Upstreams.WithServers(S(8001), S(8002), S(8003));
        upstream.TryTimeout = TimeSpan.FromSeconds(1);
        using var registry = Upstreams.Registry("api", upstream, _time);
        var calls = new List<int>();

        var error = await Assert.ThrowsAsync<TryTimeoutException>(() => registry.ExecuteAsync<int>("api", (p, _) =>
        {
            calls.Add(p.Port);
            _time.Advance(TimeSpan.FromMilliseconds(600));
            throw new TimeoutException("slow");
        }).AsTask());

        Assert.Equal(2, calls.Count);
        Assert.Equal(TimeSpan.FromSeconds(1), error.TryTimeout);
        Assert.StartsWith("Upstream 'api': try timeout of 1000 ms exceeded; 2 attempt(s)", error.Message, StringComparison.Ordinal);
        Assert.Equal(CallStopReason.TryTimeoutExceeded, error.Reason);
    }

    [Fact]
    public async Task ExecuteAsync_CallerCancels_RethrowsWithoutCountingAFailure()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(S(8001, maxFails: 1), S(8002, maxFails: 1)), _time);
        using var cts = new CancellationTokenSource();
        var calls = new List<int>();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => registry.ExecuteAsync<int>(
            "api",
            async (p, ct) =>
            {
                calls.Add(p.Port);
                await cts.CancelAsync();
                ct.ThrowIfCancellationRequested();
                return 0;
            },
            cancellationToken: cts.Token).AsTask());

        Assert.Single(calls);
        Assert.All(registry.GetStatus().Upstreams["api"].Clusters[0].Servers, s => Assert.Equal(0, s.FailCount));
    }

    [Fact]
    public async Task ExecuteAsync_CancelledBeforeStart_ThrowsWithoutCallingBack()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(S(8001)), _time);
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        bool called = false;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => registry.ExecuteAsync("api", (_, _) => { called = true; return ValueTask.FromResult(1); }, cancellationToken: cts.Token).AsTask());

        Assert.False(called);
    }

    [Fact]
    public async Task ExecuteAsync_CallbackTimesOutOnItsOwn_CountsAsFailureAndRetries()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(S(8001, maxFails: 1), S(8002, maxFails: 1)), _time);
        var calls = new List<int>();

        int served = await registry.ExecuteAsync<int>("api", (p, _) =>
        {
            calls.Add(p.Port);
            return calls.Count == 1 ? throw new TaskCanceledException("attempt timeout") : ValueTask.FromResult(p.Port);
        });

        Assert.Equal(2, calls.Count);
        Assert.Equal(calls[1], served);
        Assert.Equal(1, registry.GetStatus().Upstreams["api"].Clusters[0].Servers.Single(s => s.Server.EndsWith(calls[0].ToString(), StringComparison.Ordinal)).FailCount);
    }

    [Fact]
    public async Task ExecuteAsync_ClassifierSaysFailure_MovesOnAndReportsIt()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(S(8001, maxFails: 5), S(8002, maxFails: 5)), _time);
        var options = new ExecuteOptions<int> { IsFailure = status => status >= 500 };
        var calls = new List<int>();

        int status = await registry.ExecuteAsync("api", (p, _) =>
        {
            calls.Add(p.Port);
            return ValueTask.FromResult(p.Port == 8001 ? 503 : 200);
        }, options);

        Assert.Equal(200, status);
        Assert.Contains(8001, calls);
        if (calls[0] == 8001)
        {
            Assert.Equal(new[] { 8001, 8002 }, calls);
            Assert.Equal(1, registry.GetStatus().Upstreams["api"].Clusters[0].Servers[0].FailCount);
        }
    }

    [Fact]
    public async Task ExecuteAsync_ClassifierFailsEverywhere_ExceptionCarriesLastResult()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(S(8001), S(8002)), _time);
        var options = new ExecuteOptions<int> { IsFailure = status => status >= 500 };

        var error = await Assert.ThrowsAsync<NoServerAvailableException>(
            () => registry.ExecuteAsync("api", (_, _) => ValueTask.FromResult(502), options).AsTask());

        Assert.Equal(502, error.LastResult);
        Assert.All(error.Attempts, a => Assert.Null(a.Exception));
        Assert.Contains("result classified as failure", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExecuteAsync_ClassifierThrowsOnASynchronousResult_IsAFailureAndReleasesTheServer()
    {
        var upstream = Upstreams.WithServers(S(8001), S(8002));
        upstream.Mode = "least_requests";
        using var registry = Upstreams.Registry("api", upstream, _time);
        var options = new ExecuteOptions<int> { IsFailure = port => port == 8001 ? throw new FormatException("unreadable") : false };

        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(8002, await registry.ExecuteAsync("api", (p, _) => ValueTask.FromResult(p.Port), options));
        }

        Assert.All(registry.Get("api").Clusters[0].Servers, p => Assert.Equal(0, p.Health.InFlight));
    }

    [Fact]
    public async Task ExecuteAsync_ClassifierOfAnotherType_IsRejected()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(S(8001)), _time);

        var error = await Assert.ThrowsAsync<ArgumentException>(
            () => registry.ExecuteAsync("api", (_, _) => ValueTask.FromResult(1), new ExecuteOptions<string> { IsFailure = _ => true }).AsTask());

        Assert.Equal("options", error.ParamName);
    }

    [Fact]
    public async Task ExecuteAsync_AsyncCallbackFailingThenSucceeding_ReturnsResultOfSecondServer()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(S(8001), S(8002)), _time);
        var calls = new List<int>();

        int served = await registry.ExecuteAsync<int>("api", async (p, _) =>
        {
            await Task.Yield();
            calls.Add(p.Port);
            return calls.Count == 1 ? throw new InvalidOperationException("first fails") : p.Port;
        });

        Assert.Equal(2, calls.Count);
        Assert.NotEqual(calls[0], calls[1]);
        Assert.Equal(calls[1], served);
    }

    [Fact]
    public async Task ExecuteAsync_WithState_PassesStateToEveryAttempt()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(S(8001), S(8002)), _time);
        var seen = new List<string>();

        string result = await registry.ExecuteAsync("api", "payload", (p, state, _) =>
        {
            seen.Add(state);
            return seen.Count == 1 ? ValueTask.FromException<string>(new InvalidOperationException()) : ValueTask.FromResult(state + p.Port);
        });

        Assert.Equal(new[] { "payload", "payload" }, seen);
        Assert.StartsWith("payload", result, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExecuteAsync_NoSelectableServer_ThrowsWithoutCallingBack()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(Upstreams.Server(8001, down: true)), _time);

        var error = await Assert.ThrowsAsync<NoServerAvailableException>(
            () => registry.ExecuteAsync("api", (_, _) => ValueTask.FromResult(1)).AsTask());

        Assert.Equal("Upstream 'api': no servers available (no selectable server); no server was tried.", error.Message);
        Assert.Equal(CallStopReason.NoSelectableServer, error.Reason);
    }

    [Fact]
    public async Task ExecuteAsync_UnknownUpstream_Throws()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(S(8001)), _time);

        await Assert.ThrowsAsync<UpstreamNotFoundException>(() => registry.ExecuteAsync("other", (_, _) => ValueTask.FromResult(1)).AsTask());
    }

    [Fact]
    public async Task ExecuteAsync_FailureMarksServerErr_LaterCallsAvoidIt()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(S(8001, maxFails: 1), S(8002, maxFails: 1)), _time);
        var calls = new List<int>();
        var failing = new HashSet<int> { 8001 };

        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(8002, await registry.ExecuteAsync("api", (p, _) => FailOn(p, failing, calls)));
        }

        Assert.Equal(1, calls.Count(p => p == 8001));
    }

    [Fact]
    public void SelectPeer_LevelOneDown_ReturnsLevelTwo()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithLevels(new[] { Upstreams.Server(8001, down: true) }, new[] { S(9001) }), _time);

        Assert.Equal(9001, registry.SelectPeer("api").Port);
        Assert.True(registry.TrySelectPeer("api", null, out var server));
        Assert.Equal("2", server.Cluster);
        Assert.False(registry.TrySelectPeer("missing", null, out _));
    }
}
