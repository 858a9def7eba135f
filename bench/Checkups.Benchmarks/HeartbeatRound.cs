using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using Checkups.Configuration;
using Checkups.Diagnostics;
using Checkups.Health.Heartbeat;
using Checkups.Health.Probes;
using Checkups.Registry;

namespace Checkups.Benchmarks;

/// <summary>
/// One heartbeat round of TCP probes over 1000 servers: 1000 listeners this process opens on 127.0.0.1, probed with
/// the default concurrency of 64. Reports the best of five rounds after one warm-up round, and the most thread-pool
/// threads seen during the rounds (an async round needs no more than the pool starts with).
/// </summary>
internal static class HeartbeatRound
{
    public static (double Milliseconds, int Threads) Measure(int servers)
    {
        var listeners = new List<Socket>(servers);
        try
        {
            var upstream = new UpstreamOptions();
            upstream.Heartbeat.Type = ProbeTypes.Tcp;
            for (int i = 0; i < servers; i++)
            {
                var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                listener.Listen(512);
                listeners.Add(listener);
                upstream.Servers.Add(new ServerOptions { Host = "127.0.0.1", Port = ((IPEndPoint)listener.LocalEndPoint!).Port });
            }

            var options = new CheckupsOptions();
            options.Upstreams.Add("fleet", upstream);
            using var registry = new UpstreamRegistry(options);
            using var metrics = new CheckupsMetrics();
            using var service = new HeartbeatService(registry, new IHealthProbe[] { new TcpProbe() }, TimeProvider.System, metrics);
            service.RunRoundAsync(CancellationToken.None).GetAwaiter().GetResult();

            double best = double.MaxValue;
            int threads = ThreadPool.ThreadCount;
            for (int round = 0; round < 5; round++)
            {
                long start = Stopwatch.GetTimestamp();
                var run = service.RunRoundAsync(CancellationToken.None);
                while (!run.IsCompleted)
                {
                    threads = Math.Max(threads, ThreadPool.ThreadCount);
                    run.Wait(1);
                }

                run.GetAwaiter().GetResult();
                best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }

            int unhealthy = 0;
            foreach (var cluster in registry.GetStatus().Upstreams["fleet"].Clusters)
            {
                foreach (var server in cluster.Servers)
                {
                    unhealthy += server.Status == "ok" ? 0 : 1;
                }
            }

            if (unhealthy > 0)
            {
                throw new InvalidOperationException($"{unhealthy} of {servers} loopback listeners were reported unhealthy.");
            }

            return (Math.Round(best, 2), threads);
        }
        finally
        {
            listeners.ForEach(l => l.Dispose());
        }
    }
}
