using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Diagnostics;
using Checkups.Health.Heartbeat;
using Checkups.Health.Probes;
using Checkups.Registry;
using Checkups.TestUtils;

namespace Checkups.Benchmarks;

/// <summary>
/// Heartbeat rounds against misbehaving servers: every probe type (tcp, http, redis, mysql) against a silent, a garbage,
/// an endless-stream, a slow-drip and a resetting server on 127.0.0.1, 20 probes a round with a 20 ms timeout. After a
/// warm-up of 250 rounds, measures over the next rounds the managed heap's growth (after a full collection each side),
/// the process's open file descriptors' growth, the connections the servers still see open once the last round is
/// over, and the longest round.
/// </summary>
internal static class HostileRounds
{
    /// <summary>Rounds before the first measurement: the thread pool and the sockets' engine settle in the first hundreds.</summary>
    private const int WarmUpRounds = 250;

    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(20);

    public static (double HeapGrowthKb, int FdGrowth, int OpenAfter, double LongestRoundMs) Measure(int rounds)
    {
        var servers = new List<HostileServer>();
        try
        {
            var options = new CheckupsOptions();
            foreach (string type in new[] { ProbeTypes.Tcp, ProbeTypes.Http, ProbeTypes.Redis, ProbeTypes.MySql })
            {
                foreach (var hostility in Enum.GetValues<Hostility>())
                {
                    var server = new HostileServer(hostility);
                    servers.Add(server);
                    var upstream = new UpstreamOptions { Protected = false };
                    upstream.Heartbeat.Type = type;
                    upstream.Timeouts.Connect = Timeout;
                    upstream.Servers.Add(new ServerOptions { Host = "127.0.0.1", Port = server.Port });
                    options.Upstreams.Add($"{type}-{hostility}", upstream);
                }
            }

            using var registry = new UpstreamRegistry(options);
            using var metrics = new CheckupsMetrics();
            var probes = new IHealthProbe[] { new TcpProbe(), new HttpProbe(), new RedisProbe(), new MySqlProbe() };
            using var service = new HeartbeatService(registry, probes, TimeProvider.System, metrics);
            for (int round = 0; round < WarmUpRounds; round++)
            {
                service.RunRoundAsync(CancellationToken.None).GetAwaiter().GetResult();
            }

            long heapBefore = FullyCollectedHeap();
            int fdsBefore = OpenDescriptors();
            double longest = 0;
            for (int round = 0; round < rounds; round++)
            {
                long start = Stopwatch.GetTimestamp();
                service.RunRoundAsync(CancellationToken.None).GetAwaiter().GetResult();
                longest = Math.Max(longest, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }

            int open = 0;
            foreach (var server in servers)
            {
                // The client closes what it opened as each probe ends; the server notices within moments.
                server.WaitAllClosed(TimeSpan.FromSeconds(5));
                open += server.Open;
            }

            long heapAfter = FullyCollectedHeap();
            int fdsAfter = OpenDescriptors();
            foreach (var probe in probes)
            {
                (probe as IDisposable)?.Dispose();
            }

            return (Math.Round((heapAfter - heapBefore) / 1024.0, 1), fdsAfter - fdsBefore, open, Math.Round(longest, 1));
        }
        finally
        {
            foreach (var server in servers)
            {
                server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }
    }

    private static long FullyCollectedHeap()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    /// <summary>The process's open file descriptors (sockets included), from /proc; -1 where there is no /proc.</summary>
    private static int OpenDescriptors() =>
        Directory.Exists("/proc/self/fd") ? Directory.GetFiles("/proc/self/fd").Length : -1;
}
