using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Diagnostics;
using Checkups.Execution;
using Checkups.Health.Heartbeat;
using Checkups.Health.Probes;
using Checkups.Registry;
using Checkups.Status;
using Checkups.TestUtils;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Checkups.Tests.Health;

public sealed class HeartbeatServiceTests : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private readonly FakeTimeProvider _time = new();
    private readonly ScriptedProbe _probe = new();

    // A meter factory of this test's own: its meters carry it as their scope, so a collector scoped to it hears only what
    // this test's instances record, however many other tests use the Checkups meter in parallel.
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly IMeterFactory _meters;
    private readonly CheckupsMetrics _metrics;

    public HeartbeatServiceTests()
    {
        _meters = _services.GetRequiredService<IMeterFactory>();
        _metrics = new CheckupsMetrics(_meters);
    }

    public void Dispose()
    {
        _metrics.Dispose();
        _services.Dispose();
    }

    private MetricCollector<T> Collect<T>(string instrument)
        where T : struct => new(_meters, CheckupsMetrics.MeterName, instrument);

    /// <summary>The tag <paramref name="tag"/> of each measurement of <paramref name="collector"/>, in order.</summary>
    private static IEnumerable<string?> Tags<T>(MetricCollector<T> collector, string tag)
        where T : struct => collector.GetMeasurementSnapshot().Select(m => m.Tags.TryGetValue(tag, out var value) ? value as string : null);

    private UpstreamOptions Upstream(int servers, int sensibility = 1, bool isProtected = true)
    {
        var upstream = new UpstreamOptions { Protected = isProtected };
        upstream.Heartbeat.Type = "scripted";
        upstream.Heartbeat.Sensibility = sensibility;
        upstream.Timeouts.Connect = TimeSpan.FromSeconds(30);
        for (int i = 0; i < servers; i++)
        {
            upstream.Servers.Add(Upstreams.Server(8001 + i));
        }

        return upstream;
    }

    private (UpstreamRegistry Registry, HeartbeatService Service) Start(UpstreamOptions upstream)
    {
        var options = new CheckupsOptions { HeartbeatInterval = Interval };
        options.Upstreams.Add("api", upstream);
        var registry = Upstreams.NewRegistry(options, _time, "scripted");
        return (registry, new HeartbeatService(registry, new IHealthProbe[] { new TcpProbe(), _probe }, _time, _metrics));
    }

    /// <summary>A signal that completes when the service has finished <paramref name="round"/> rounds; subscribe before triggering.</summary>
    private static Task RoundDone(HeartbeatService service, int round)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        service.RoundCompleted += done =>
        {
            if (done >= round)
            {
                signal.TrySetResult();
            }
        };
        if (service.Rounds >= round)
        {
            signal.TrySetResult();
        }

        return signal.Task.WaitAsync(TimeSpan.FromSeconds(60));
    }

    private static string StatusOf(UpstreamRegistry registry, int port) => Upstreams.StatusOf(registry, port).Status;

    [Fact]
    public async Task StartAsync_RunsOneRoundBeforeReturning_SoFirstPicksKnowDeadServers()
    {
        _probe.Verdicts[8001] = () => ProbeResult.Failure("connection refused");
        var (registry, service) = Start(Upstream(3));
        using var _ = registry;
        using var __ = service;

        await service.StartAsync(CancellationToken.None);

        Assert.Equal(3, _probe.Calls);
        Assert.Equal(HealthStatus.Err, StatusOf(registry, 8001));
        Assert.All(Enumerable.Range(0, 12), _ => Assert.NotEqual(8001, registry.SelectPeer("api").Port));
        var status = registry.GetStatus();
        Assert.True(status.HeartbeatAlive);
        Assert.Equal(_time.GetUtcNow(), status.LastCheckTime);
        await service.StopAsync(CancellationToken.None);
        Assert.False(registry.GetStatus().HeartbeatAlive);
    }

    [Fact]
    public async Task StartAsync_ManySilentServers_WaitsAtMostOneProbeTimeout_TheRoundFinishesInTheBackground()
    {
        // Three silent servers, one probe at a time, 30 s timeout: the round takes 90 s; start must not wait for it.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _probe.Gate = gate.Task;
        var options = new CheckupsOptions { HeartbeatInterval = Interval, HeartbeatConcurrency = 1 };
        options.Upstreams.Add("api", Upstream(3));
        using var registry = Upstreams.NewRegistry(options, _time, "scripted");
        using var service = new HeartbeatService(registry, new IHealthProbe[] { _probe }, _time, _metrics);

        var start = service.StartAsync(CancellationToken.None);
        await _probe.WhenRunning(1).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.False(start.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(30) + HeartbeatService.StartMargin);
        await start.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(registry.GetStatus().HeartbeatAlive);
        Assert.Equal(0, service.Rounds);
        var done = RoundDone(service, 1);
        gate.SetResult();
        await done;
        Assert.Equal(1, service.Rounds);
        await service.StopAsync(CancellationToken.None);
        Assert.False(registry.GetStatus().HeartbeatAlive);
    }

    [Fact]
    public async Task Sensibility3_ErrOnlyAfterThreeConsecutiveFailures_OneSuccessResets()
    {
        var verdict = ProbeResult.Failure("refused");
        _probe.Verdicts[8001] = () => verdict;
        var (registry, service) = Start(Upstream(2, sensibility: 3));
        using var _ = registry;
        using var __ = service;

        await service.RunRoundAsync(CancellationToken.None);
        await service.RunRoundAsync(CancellationToken.None);
        Assert.Equal(HealthStatus.Ok, StatusOf(registry, 8001));
        Assert.Equal(2, Upstreams.StatusOf(registry, 8001).FailCount);

        await service.RunRoundAsync(CancellationToken.None);
        Assert.Equal(HealthStatus.Err, StatusOf(registry, 8001));
        Assert.Equal("refused", Upstreams.StatusOf(registry, 8001).Message);

        verdict = ProbeResult.Ok();
        await service.RunRoundAsync(CancellationToken.None);
        Assert.Equal(HealthStatus.Ok, StatusOf(registry, 8001));
        Assert.Equal(0, Upstreams.StatusOf(registry, 8001).FailCount);

        verdict = ProbeResult.Failure("refused");
        await service.RunRoundAsync(CancellationToken.None);
        await service.RunRoundAsync(CancellationToken.None);
        Assert.Equal(HealthStatus.Ok, StatusOf(registry, 8001));
    }

    [Fact]
    public async Task Protected_EveryServerFails_FirstStaysUnstableAndSelectable()
    {
        foreach (int port in new[] { 8001, 8002, 8003 })
        {
            _probe.Verdicts[port] = () => ProbeResult.Failure("refused");
        }

        var (registry, service) = Start(Upstream(3));
        using var _ = registry;
        using var __ = service;

        await service.RunRoundAsync(CancellationToken.None);

        Assert.Equal(HealthStatus.Unstable, StatusOf(registry, 8001));
        // As lua-resty-checkups: the status tells protected, the message stays the probe's own.
        Assert.Equal("refused", Upstreams.StatusOf(registry, 8001).Message);
        Assert.Equal(HealthStatus.Err, StatusOf(registry, 8002));
        Assert.Equal(HealthStatus.Err, StatusOf(registry, 8003));
        Assert.Equal(8001, registry.SelectPeer("api").Port);
    }

    [Fact]
    public async Task Protected_FirstServerIsDown_TheFirstServerNotDownIsKept()
    {
        foreach (int port in new[] { 8001, 8002, 8003 })
        {
            _probe.Verdicts[port] = () => ProbeResult.Failure("refused");
        }

        var upstream = Upstream(3);
        upstream.Servers[0].Down = true;
        var (registry, service) = Start(upstream);
        using var _ = registry;
        using var __ = service;

        await service.RunRoundAsync(CancellationToken.None);

        Assert.Equal(HealthStatus.Unstable, StatusOf(registry, 8002));
        Assert.Equal(8002, registry.SelectPeer("api").Port);
    }

    [Fact]
    public async Task Protected_OneServerOutByPassiveAccounting_EveryProbeFailing_TheOtherIsKeptSelectable()
    {
        var upstream = Upstream(2);
        upstream.Servers[0].MaxFails = 1;
        _probe.Verdicts[8001] = () => ProbeResult.Failure("refused");
        _probe.Verdicts[8002] = () => ProbeResult.Failure("refused");
        var (registry, service) = Start(upstream);
        using var _ = registry;
        using var __ = service;
        registry.ReportFailure("api", "127.0.0.1", 8001);
        Assert.Equal(HealthStatus.Err, StatusOf(registry, 8001));

        await service.RunRoundAsync(CancellationToken.None);

        Assert.Equal(HealthStatus.Unstable, StatusOf(registry, 8002));
        Assert.All(Enumerable.Range(0, 4), _ => Assert.Equal(8002, registry.SelectPeer("api").Port));
    }

    [Fact]
    public async Task ProbeSuccess_EndsAPassiveErr_AsInLua_SoARestartedServerIsBackAtOnce()
    {
        var upstream = Upstream(2);
        upstream.Servers[0].MaxFails = 1;
        upstream.Servers[0].FailTimeout = TimeSpan.FromMinutes(10);
        _probe.Verdicts[8001] = () => ProbeResult.Ok();
        _probe.Verdicts[8002] = () => ProbeResult.Ok();
        var (registry, service) = Start(upstream);
        using var _ = registry;
        using var __ = service;
        registry.ReportFailure("api", "127.0.0.1", 8001);
        Assert.Equal(HealthStatus.Err, StatusOf(registry, 8001));

        await service.RunRoundAsync(CancellationToken.None);

        var status = Upstreams.StatusOf(registry, 8001);
        Assert.Equal(HealthStatus.Ok, status.Status);
        Assert.Equal(0, status.FailCount);
        Assert.Contains(8001, Enumerable.Range(0, 4).Select(_ => registry.SelectPeer("api").Port));
    }

    [Fact]
    public async Task ProbeFailure_DoesNotEndAPassiveErr()
    {
        var upstream = Upstream(2, sensibility: 3);
        upstream.Servers[0].MaxFails = 1;
        _probe.Verdicts[8001] = () => ProbeResult.Failure("refused");
        _probe.Verdicts[8002] = () => ProbeResult.Ok();
        var (registry, service) = Start(upstream);
        using var _ = registry;
        using var __ = service;
        registry.ReportFailure("api", "127.0.0.1", 8001);

        await service.RunRoundAsync(CancellationToken.None);

        Assert.Equal(HealthStatus.Err, StatusOf(registry, 8001));
        Assert.All(Enumerable.Range(0, 4), _ => Assert.Equal(8002, registry.SelectPeer("api").Port));
    }

    [Fact]
    public async Task Protected_RoundAfterRound_StaysUnstableWithoutFlapping()
    {
        using var statusChanges = Collect<long>("checkups.heartbeat.status_changes");
        _probe.Verdicts[8001] = () => ProbeResult.Failure("refused");
        _probe.Verdicts[8002] = () => ProbeResult.Failure("refused");
        var (registry, service) = Start(Upstream(2));
        using var _ = registry;
        using var __ = service;

        for (int round = 0; round < 4; round++)
        {
            await service.RunRoundAsync(CancellationToken.None);
            Assert.Equal(HealthStatus.Unstable, StatusOf(registry, 8001));
            Assert.Equal(8001, registry.SelectPeer("api").Port);
        }

        Assert.Equal(new[] { "err", "unstable" }, Tags(statusChanges, "checkups.status").Order());
    }

    [Fact]
    public async Task HeartbeatTurnedOffWhileAVerdictIsOnItsWay_TheVerdictIsIgnored()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _probe.Gate = gate.Task;
        _probe.Verdicts[8001] = () => ProbeResult.Failure("refused");
        var (registry, service) = Start(Upstream(2));
        using var _ = registry;
        using var __ = service;

        var round = service.RunRoundAsync(CancellationToken.None);
        var off = Upstream(2);
        off.Heartbeat.Enabled = false;
        registry.Update("api", off);
        gate.SetResult();
        await round;

        Assert.Equal(HealthStatus.Unchecked, StatusOf(registry, 8001));
        Assert.Contains(8001, Enumerable.Range(0, 4).Select(_ => registry.SelectPeer("api").Port));
    }

    [Fact]
    public async Task NotProtected_EveryServerFails_NoneIsSelectable()
    {
        _probe.Verdicts[8001] = () => ProbeResult.Failure("refused");
        _probe.Verdicts[8002] = () => ProbeResult.Failure("refused");
        var (registry, service) = Start(Upstream(2, isProtected: false));
        using var _ = registry;
        using var __ = service;

        await service.RunRoundAsync(CancellationToken.None);

        Assert.Throws<NoServerAvailableException>(() => registry.SelectPeer("api"));
    }

    [Fact]
    public async Task StatusFields_AndLastModified_ChangeOnlyWithTheStatus()
    {
        var fields = new Dictionary<string, string> { ["role"] = "master", ["status"] = "clash" };
        var verdict = ProbeResult.Ok(fields);
        _probe.Verdicts[8001] = () => verdict;
        var (registry, service) = Start(Upstream(2));
        using var _ = registry;
        using var __ = service;

        await service.RunRoundAsync(CancellationToken.None);
        var firstOk = Upstreams.StatusOf(registry, 8001).LastModified;
        _time.Advance(TimeSpan.FromSeconds(5));
        await service.RunRoundAsync(CancellationToken.None);
        Assert.Equal(firstOk, Upstreams.StatusOf(registry, 8001).LastModified);

        _time.Advance(TimeSpan.FromSeconds(5));
        verdict = ProbeResult.Failure("gone", fields);
        await service.RunRoundAsync(CancellationToken.None);
        var failed = Upstreams.StatusOf(registry, 8001);
        Assert.Equal(_time.GetUtcNow(), failed.LastModified);
        Assert.Equal("master", failed.Fields["role"]);

        using var json = JsonDocument.Parse(registry.GetStatus().ToJson());
        var entry = json.RootElement.GetProperty("cls:api")[0][0];
        Assert.Equal("err", entry.GetProperty("status").GetString());
        Assert.Equal("gone", entry.GetProperty("msg").GetString());
        Assert.Equal("master", entry.GetProperty("role").GetString());
        Assert.Equal("clash", entry.GetProperty("probe_status").GetString());
        Assert.Equal(1, entry.GetProperty("fail_num").GetInt32());
    }

    [Fact]
    public async Task ProbeThatThrows_IsAFailedProbeWithTheExceptionMessage()
    {
        _probe.Verdicts[8001] = () => throw new InvalidOperationException("handshake garbled");
        var (registry, service) = Start(Upstream(2));
        using var _ = registry;
        using var __ = service;

        await service.RunRoundAsync(CancellationToken.None);

        Assert.Equal(HealthStatus.Err, StatusOf(registry, 8001));
        Assert.Equal("handshake garbled", Upstreams.StatusOf(registry, 8001).Message);
    }

    [Fact]
    public async Task ProbeIgnoringItsToken_TimesOutAtTheConnectTimeout()
    {
        var hang = new TaskCompletionSource<bool>();
        var upstream = Upstream(1, isProtected: false);
        upstream.Heartbeat.Type = "hang";
        upstream.Timeouts.Connect = TimeSpan.FromSeconds(2);
        var options = new CheckupsOptions();
        options.Upstreams.Add("api", upstream);
        using var registry = Upstreams.NewRegistry(options, _time, "scripted", "hang");
        var hanging = new DelegateProbe("hang", async (_, _) => { await hang.Task; return ProbeResult.Ok(); });
        using var service = new HeartbeatService(registry, new IHealthProbe[] { hanging }, _time, _metrics);

        var round = service.RunRoundAsync(CancellationToken.None);
        Assert.False(round.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(2));
        await round.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal("timeout after 2000 ms", Upstreams.StatusOf(registry, 8001).Message);
        hang.SetResult(true);
    }

    [Fact]
    public void UnknownProbeType_IsRejectedWithItsPathAndTheKnownTypes()
    {
        var upstream = Upstream(1, isProtected: false);
        upstream.Heartbeat.Type = "htpp";
        var options = new CheckupsOptions { HeartbeatInterval = Interval };
        options.Upstreams.Add("api", upstream);

        var error = Assert.Throws<CheckupsValidationException>(() => Upstreams.NewRegistry(options, _time, "scripted"));

        Assert.Equal("Checkups:Upstreams:api:Heartbeat:Type must name a probe: one of http, mysql, redis, scripted, tcp (was 'htpp')", Assert.Single(error.Errors));
    }

    [Fact]
    public async Task Loop_SlowProbes_RoundsNeverOverlap()
    {
        var (registry, service) = Start(Upstream(3));
        using var _ = registry;
        using var __ = service;
        await service.StartAsync(CancellationToken.None);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _probe.Gate = gate.Task;

        var threeRunning = _probe.WhenRunning(3);
        _time.Advance(Interval);
        await threeRunning.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(3, _probe.Running);
        for (int tick = 0; tick < 5; tick++)
        {
            _time.Advance(Interval);
        }

        await Task.Yield();
        Assert.Equal(3, _probe.Running);
        Assert.Equal(6, _probe.Calls);

        var third = RoundDone(service, 3);
        gate.SetResult();
        await third;
        Assert.Equal(3, _probe.MaxRunning);
        await service.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Loop_TimerDrivesRounds_RuntimeChangesArePickedUpNextRound()
    {
        var (registry, service) = Start(Upstream(2));
        using var _ = registry;
        using var __ = service;
        await service.StartAsync(CancellationToken.None);
        Assert.Equal(2, _probe.Calls);

        var added = Upstream(1, isProtected: false);
        added.Servers[0].Port = 9001;
        _probe.Verdicts[9001] = () => ProbeResult.Failure("refused");
        registry.Update("extra", added);
        var second = RoundDone(service, 2);
        _time.Advance(Interval);
        await second;

        Assert.Equal(5, _probe.Calls);
        Assert.Equal(HealthStatus.Err, Upstreams.StatusOf(registry, 9001, "extra").Status);

        registry.Delete("extra");
        var third = RoundDone(service, 3);
        _time.Advance(Interval);
        await third;
        Assert.Equal(7, _probe.Calls);
        await service.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task ServerRemovedMidRound_ItsResultIsNotReported()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _probe.Gate = gate.Task;
        _probe.Verdicts[8002] = () => ProbeResult.Failure("refused");
        var (registry, service) = Start(Upstream(2));
        using var _ = registry;
        using var __ = service;

        var round = service.RunRoundAsync(CancellationToken.None);
        registry.UpdateServers("api", new[] { Upstreams.Server(8001) });
        registry.UpdateServers("api", new[] { Upstreams.Server(8001), Upstreams.Server(8002) });
        gate.SetResult();
        await round;

        // 8002 came back as a new server: the verdict about the removed one must not land on it.
        Assert.Equal(HealthStatus.Ok, StatusOf(registry, 8002));
    }

    [Fact]
    public async Task HeartbeatTurnedOff_ActiveVerdictsAreForgotten()
    {
        _probe.Verdicts[8001] = () => ProbeResult.Failure("refused");
        var (registry, service) = Start(Upstream(2));
        using var _ = registry;
        using var __ = service;
        await service.RunRoundAsync(CancellationToken.None);
        Assert.Equal(HealthStatus.Err, StatusOf(registry, 8001));

        var off = Upstream(2);
        off.Heartbeat.Enabled = false;
        registry.Update("api", off);

        Assert.Equal(HealthStatus.Unchecked, StatusOf(registry, 8001));
        Assert.Contains(8001, Enumerable.Range(0, 4).Select(_ => registry.SelectPeer("api").Port));
    }

    [Fact]
    public async Task Metrics_StatusChangesAndDurationsAreRecorded()
    {
        using var statusChanges = Collect<long>("checkups.heartbeat.status_changes");
        using var probeDurations = Collect<double>("checkups.heartbeat.probe.duration");
        _probe.Verdicts[8001] = () => ProbeResult.Failure("refused");
        var (registry, service) = Start(Upstream(2));
        using var _ = registry;
        using var __ = service;

        await service.RunRoundAsync(CancellationToken.None);
        _probe.Verdicts[8001] = () => ProbeResult.Ok();
        await service.RunRoundAsync(CancellationToken.None);

        Assert.Equal(new[] { "err", "ok" }, Tags(statusChanges, "checkups.status"));
        Assert.Equal(4, probeDurations.GetMeasurementSnapshot().Count);
    }
}
