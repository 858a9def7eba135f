using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Registry;
using Checkups.TestUtils;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace Checkups.Http.Tests;

/// <summary>
/// The seed talk's question, "how do we update services with zero downtime?", answered for HttpClient: a steady load
/// while each backend in turn is stopped and started again on its port.
/// </summary>
public sealed class ZeroDowntimeTests : IAsyncLifetime
{
    private const int Requests = 3000;
    private const int Loops = 4;
    private static readonly TimeSpan FailTimeout = TimeSpan.FromSeconds(10);

    private readonly List<Backend> _backends = new();

    public Task InitializeAsync() => Backend.StartAllAsync(_backends, "A", "B", "C");

    public Task DisposeAsync() => Backend.DisposeAllAsync(_backends);

    [Fact]
    public async Task SteadyLoad_EachBackendStoppedAndRestarted_NoFailedRequestAndEveryBackendServesAgain()
    {
        // Passive health on a manual clock: a stopped backend is out after one failure and comes back when the test moves
        // the clock past its fail_timeout, right after starting it again.
        var time = new FakeTimeProvider();
        var options = new CheckupsOptions();
        options.Upstreams.Add("api", Upstream(heartbeat: false));
        using var registry = new UpstreamRegistry(options, time);
        using var client = new HttpClient(new CheckupsHttpHandler(registry, "api") { InnerHandler = new SocketsHttpHandler() })
        {
            BaseAddress = new Uri("http://api/"),
            Timeout = TimeSpan.FromSeconds(60),
        };

        await RollingRestartAsync(client, registry, () =>
        {
            time.Advance(FailTimeout);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task SteadyLoad_RollingRestartWithHeartbeat_NoFailedGet_ARestartedServerIsBackAtTheNextRound()
    {
        // The fail timeout never runs out here: a restarted server comes back only because the heartbeat finds it alive,
        // as in lua-resty-checkups. Without that, both servers restarted earlier would still be out at the third stop, and
        // the last one standing would fail its GETs.
        var time = new FakeTimeProvider();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSingleton<TimeProvider>(time);
        builder.Services.AddCheckups(options =>
        {
            options.HeartbeatInterval = TimeSpan.FromSeconds(1);
            options.Upstreams["api"] = Upstream(heartbeat: true);
        });
        builder.Services.AddHttpClient("api", http =>
        {
            http.BaseAddress = new Uri("http://api/");
            http.Timeout = TimeSpan.FromSeconds(60);
        }).AddCheckups("api");
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var registry = host.Services.GetRequiredService<UpstreamRegistry>();
            var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("api");
            using var rounds = new MetricCollector<double>(host.Services.GetRequiredService<IMeterFactory>(), "Checkups", "checkups.heartbeat.round.duration");
            await RollingRestartAsync(client, registry, async () =>
            {
                // One heartbeat interval on the clock, then wait for that round to have been applied: a round sets the last
                // check time, then records its duration, so each recorded round is a moment to look again.
                int recorded = rounds.GetMeasurementSnapshot().Count;
                var round = time.GetUtcNow() + TimeSpan.FromSeconds(1);
                time.Advance(TimeSpan.FromSeconds(1));
                for (int i = 0; i < 100 && registry.GetStatus().LastCheckTime < round; i++)
                {
                    await rounds.WaitForMeasurementsAsync(++recorded, TimeSpan.FromSeconds(60));
                }

                Assert.True(registry.GetStatus().LastCheckTime >= round, "the heartbeat round did not complete");
            });
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private UpstreamOptions Upstream(bool heartbeat)
    {
        var upstream = new UpstreamOptions { Try = 3 };
        upstream.Heartbeat.Enabled = heartbeat;
        upstream.Heartbeat.Type = ProbeTypes.Http;
        upstream.Timeouts.Connect = TimeSpan.FromSeconds(5);
        upstream.Timeouts.Read = TimeSpan.FromSeconds(5);
        foreach (var backend in _backends)
        {
            upstream.Servers.Add(new ServerOptions { Host = "127.0.0.1", Port = backend.Port, MaxFails = 1, FailTimeout = FailTimeout });
        }

        return upstream;
    }

    /// <summary>
    /// By request number: backend i stops at 300 + 700 i (the load goes on while it shuts down) and starts again 300
    /// requests later; the loops wait for the restart and for <paramref name="revive"/>, so that every backend has requests
    /// left to serve after it. No request may fail, and every backend must serve again.
    /// </summary>
    private async Task RollingRestartAsync(HttpClient client, UpstreamRegistry registry, Func<Task> revive)
    {
        var stops = new Dictionary<int, Backend>();
        var restarts = new Dictionary<int, Backend>();
        for (int i = 0; i < _backends.Count; i++)
        {
            stops[300 + (700 * i)] = _backends[i];
            restarts[600 + (700 * i)] = _backends[i];
        }

        var servedBeforeRestart = new ConcurrentDictionary<string, int>();
        var failures = new ConcurrentQueue<string>();
        var answers = new ConcurrentDictionary<string, int>();
        var stopping = new List<Task>();
        int issued = 0;
        Task gate = Task.CompletedTask;
        var gateLock = new object();

        async Task LoopAsync()
        {
            while (true)
            {
                Task wait;
                lock (gateLock)
                {
                    wait = gate;
                }

                await wait;
                int number = Interlocked.Increment(ref issued);
                if (number > Requests)
                {
                    return;
                }

                if (stops.TryGetValue(number, out var stop))
                {
                    lock (stopping)
                    {
                        stopping.Add(stop.StopAsync());
                    }
                }

                if (restarts.TryGetValue(number, out var restart))
                {
                    var opened = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    lock (gateLock)
                    {
                        gate = opened.Task;
                    }

                    try
                    {
                        await WhenStopped(stopping);
                        servedBeforeRestart[restart.Name] = restart.Requests;
                        await restart.RestartAsync();
                        await revive();
                    }
                    finally
                    {
                        opened.SetResult();
                    }
                }

                try
                {
                    using var response = await client.GetAsync("/");
                    string body = await response.Content.ReadAsStringAsync();
                    if (!response.IsSuccessStatusCode)
                    {
                        failures.Enqueue($"request {number}: status {(int)response.StatusCode}");
                        continue;
                    }

                    answers.AddOrUpdate(body, 1, static (_, count) => count + 1);
                }
                catch (HttpRequestException ex)
                {
                    failures.Enqueue($"request {number}: {ex.Message}");
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Loops).Select(_ => Task.Run(LoopAsync)));

        Assert.Empty(failures);
        Assert.Equal(Requests, answers.Values.Sum());
        Assert.All(_backends, backend => Assert.True(
            backend.Requests > servedBeforeRestart[backend.Name],
            $"backend {backend.Name} served no request after its restart"));
        Assert.All(registry.GetStatus().Upstreams["api"].Clusters[0].Servers, server => Assert.Equal(0, server.InFlight));
    }

    private static Task WhenStopped(List<Task> stopping)
    {
        lock (stopping)
        {
            return Task.WhenAll(stopping.ToArray());
        }
    }
}
