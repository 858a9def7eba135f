using System;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Diagnostics;
using Checkups.Health.Heartbeat;
using Checkups.Health.Probes;
using Checkups.Status;
using Checkups.TestUtils;
using Microsoft.Extensions.DependencyInjection;

namespace Checkups.Tests.Health.Probes;

/// <summary>Every probe against servers that misbehave: each round ends, leaves no socket open, and quotes nothing raw.</summary>
public sealed class HostileServerTests
{
    public static TheoryData<string, Hostility> Cases()
    {
        var cases = new TheoryData<string, Hostility>();
        foreach (string type in new[] { ProbeTypes.Tcp, ProbeTypes.Http, ProbeTypes.Redis, ProbeTypes.MySql })
        {
            foreach (var hostility in Enum.GetValues<Hostility>())
            {
                cases.Add(type, hostility);
            }
        }

        return cases;
    }

    private static IHealthProbe ProbeOf(string type) => type switch
    {
        ProbeTypes.Tcp => new TcpProbe(),
        ProbeTypes.Http => new HttpProbe(),
        ProbeTypes.Redis => new RedisProbe(),
        _ => new MySqlProbe(),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Round_HostileServer_EndsClosesEverySocketAndReportsPrintableText(string type, Hostility hostility)
    {
        await using var server = new HostileServer(hostility);
        var probe = ProbeOf(type);
        var upstream = Probing.Upstream(type, server.Port, timeout: TimeSpan.FromMilliseconds(300));
        using var registry = Upstreams.Registry("probed", upstream, TimeProvider.System);
        using var meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var metrics = new CheckupsMetrics(meters.GetRequiredService<IMeterFactory>());
        using var service = new HeartbeatService(registry, new[] { probe }, TimeProvider.System, metrics);

        for (int round = 0; round < 3; round++)
        {
            await service.RunRoundAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        }

        // The client closes what it opened once each probe ends: the server sees every connection closed (bounded wait).
        Assert.True(server.WaitAllClosed(TimeSpan.FromSeconds(30)), $"{server.Open} connection(s) still open");
        var status = Upstreams.StatusOf(registry, server.Port, "probed");
        if (status.Message is { } message)
        {
            Assert.True(message.Length <= ProbeResult.MaxText + 1, message);
            Assert.DoesNotContain(message, c => char.IsControl(c));
        }

        Assert.All(status.Fields.Values, value => Assert.DoesNotContain(value, c => char.IsControl(c)));
        (probe as IDisposable)?.Dispose();
    }
}
