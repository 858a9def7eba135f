using System;
using System.Diagnostics.Metrics;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Diagnostics;
using Checkups.Health.Heartbeat;
using Checkups.Health.Probes;
using Checkups.Registry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Checkups.TestUtils;

/// <summary>Runs one probe against one server the way the heartbeat does (timeouts on the given clock).</summary>
public static class Probing
{
    public static UpstreamOptions Upstream(string type, int port, Action<HeartbeatOptions>? configure = null, TimeSpan? timeout = null)
    {
        var upstream = new UpstreamOptions { Protected = false };
        upstream.Heartbeat.Type = type;
        upstream.Timeouts.Connect = timeout ?? TimeSpan.FromSeconds(10);
        upstream.Servers.Add(Upstreams.Server(port));
        configure?.Invoke(upstream.Heartbeat);
        return upstream;
    }

    /// <summary>Probes directly (real clock, the upstream's connect timeout as a bound).</summary>
    public static async Task<ProbeResult> ProbeAsync(IHealthProbe probe, UpstreamOptions upstream)
    {
        using var registry = Upstreams.Registry("probed", upstream, TimeProvider.System);
        var snapshot = registry.Get("probed");
        var server = snapshot.Clusters[0].Servers[0];
        using var timeout = new CancellationTokenSource(snapshot.Timeouts.Connect);
        return await probe.ProbeAsync(new ProbeContext(snapshot, server, snapshot.Source.Heartbeat, snapshot.Timeouts.Connect), timeout.Token);
    }

    /// <summary>Runs a heartbeat round over one upstream and returns the server's reported status.</summary>
    public static async Task<Checkups.Status.ServerStatus> RoundAsync(IHealthProbe probe, UpstreamOptions upstream, FakeTimeProvider? time = null, Action? whileRunning = null)
    {
        var clock = time ?? new FakeTimeProvider();
        using var registry = Upstreams.Registry("probed", upstream, clock);
        using var meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var metrics = new CheckupsMetrics(meters.GetRequiredService<IMeterFactory>());
        using var service = new HeartbeatService(registry, new[] { probe }, clock, metrics);
        var round = service.RunRoundAsync(CancellationToken.None);
        whileRunning?.Invoke();
        await round.WaitAsync(TimeSpan.FromSeconds(60));
        return Upstreams.StatusOf(registry, upstream.Servers[0].Port, "probed");
    }
}
