using System;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Health.Probes;
using Checkups.Status;
using Checkups.TestUtils;
using Microsoft.Extensions.Time.Testing;

namespace Checkups.Tests.Health.Probes;

public sealed class HttpProbeTests : IAsyncLifetime
{
    private readonly HttpProbe _probe = new();
    private KestrelBackend _backend = null!;

    public async Task InitializeAsync() => _backend = await KestrelBackend.StartAsync();

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    private Task<ProbeResult> Probe(string path, Action<HttpProbeOptions>? configure = null) =>
        Probing.ProbeAsync(_probe, Probing.Upstream("http", _backend.Port, h =>
        {
            h.Http.Path = path;
            configure?.Invoke(h.Http);
        }));

    [Fact]
    public async Task Probe_200_IsOkWithTheCodeRecorded()
    {
        var result = await Probe("/ok?probe=1");

        Assert.Equal(HealthStatus.Ok, result.Status);
        Assert.Equal("200", result.Fields["status_code"]);
    }

    [Fact]
    public async Task Probe_500_IsAFailureNamingTheCode()
    {
        var result = await Probe("/fail");

        Assert.Equal(HealthStatus.Err, result.Status);
        Assert.Equal("bad status code: 500", result.Message);
    }

    [Fact]
    public async Task Probe_SeedStatusesMap_DecidesListedCodesAndLetsOthersLive()
    {
        Assert.Equal(HealthStatus.Ok, (await Probe("/fail", h => h.Statuses["500"] = true)).Status);
        Assert.Equal(HealthStatus.Err, (await Probe("/missing", h => h.Statuses["404"] = false)).Status);
        Assert.Equal(HealthStatus.Ok, (await Probe("/fail", h => h.Statuses["404"] = false)).Status);
    }

    [Fact]
    public async Task Probe_AliveClasses_OnlyThoseClassesLive()
    {
        Assert.Equal(HealthStatus.Err, (await Probe("/moved", h => h.AliveStatuses.Add("2xx"))).Status);
        Assert.Equal(HealthStatus.Ok, (await Probe("/moved", h => h.AliveStatuses.Add("3xx"))).Status);
        Assert.Equal(HealthStatus.Ok, (await Probe("/missing", h => { h.AliveStatuses.Add("2xx"); h.AliveStatuses.Add("404"); })).Status);
    }

    [Fact]
    public async Task Probe_HostHeaderAndMethod_AreSent()
    {
        Assert.Equal("bad status code: 421", (await Probe("/host")).Message);
        Assert.Equal(HealthStatus.Ok, (await Probe("/host", h => h.Host = "api.internal")).Status);
        Assert.Equal(HealthStatus.Ok, (await Probe("/method", h => h.Method = "HEAD")).Status);
    }

    [Fact]
    public async Task Round_HangingEndpoint_TimesOutAtTheConnectTimeout()
    {
        var time = new FakeTimeProvider();
        var upstream = Probing.Upstream("http", _backend.Port, h => h.Http.Path = "/hang", TimeSpan.FromSeconds(4));

        var status = await Probing.RoundAsync(_probe, upstream, time, whileRunning: () => time.Advance(TimeSpan.FromSeconds(4)));

        Assert.Equal(HealthStatus.Err, status.Status);
        Assert.Equal("timeout after 4000 ms", status.Message);
    }

    [Fact]
    public async Task Round_StoppedBackend_IsErr()
    {
        int port = _backend.Port;
        await _backend.DisposeAsync();
        _backend = await KestrelBackend.StartAsync();

        var status = await Probing.RoundAsync(_probe, Probing.Upstream("http", port, h => h.Http.Path = "/ok"));

        Assert.Equal(HealthStatus.Err, status.Status);
        Assert.Equal("Connection refused (127.0.0.1:" + port + ")", status.Message);
    }
}
