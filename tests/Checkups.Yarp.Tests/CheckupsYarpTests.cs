using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Status;
using Checkups.TestUtils;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace Checkups.Yarp.Tests;

/// <summary>YARP in-process on Kestrel, running on Checkups, in front of real Kestrel backends on 127.0.0.1.</summary>
public sealed class CheckupsYarpTests : IAsyncLifetime
{
    private readonly List<Backend> _backends = new();

    public Task InitializeAsync() => Backend.StartAllAsync(_backends, "A", "B", "C");

    public Task DisposeAsync() => Backend.DisposeAllAsync(_backends);

    /// <summary>Sends <paramref name="count"/> GETs over <paramref name="loops"/> concurrent loops; counts answers by body, failures by reason.</summary>
    private static async Task<(ConcurrentDictionary<string, int> Answers, ConcurrentQueue<string> Failures)> LoadAsync(HttpClient client, int count, int loops, CancellationToken stop = default)
    {
        var answers = new ConcurrentDictionary<string, int>();
        var failures = new ConcurrentQueue<string>();
        int issued = 0;
        await Task.WhenAll(Enumerable.Range(0, loops).Select(_ => Task.Run(async () =>
        {
            for (int number; !stop.IsCancellationRequested && (number = Interlocked.Increment(ref issued)) <= count;)
            {
                try
                {
                    using var message = new HttpRequestMessage(HttpMethod.Get, "/items");
                    using var response = await client.SendAsync(message);
                    string body = await response.Content.ReadAsStringAsync();
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        failures.Enqueue($"request {number}: {(int)response.StatusCode} {body}");
                        continue;
                    }

                    answers.AddOrUpdate(body, 1, static (_, n) => n + 1);
                }
                catch (HttpRequestException ex)
                {
                    failures.Enqueue($"request {number}: {ex.Message}");
                }
            }
        })));
        return (answers, failures);
    }

    [Fact]
    public async Task Weights_TenThousandRequests_ShareWithinTwoPercent_AndYarpSeesTheServersAsDestinations()
    {
        await using var proxy = await YarpProxy.StartAsync(YarpProxy.Upstream(_backends, 1, 2, 3));

        var (answers, failures) = await LoadAsync(proxy.Client, 10_000, loops: 8);

        Assert.Empty(failures);
        Assert.InRange(answers["A"] / 10_000.0, (1 / 6.0) - 0.02, (1 / 6.0) + 0.02);
        Assert.InRange(answers["B"] / 10_000.0, (2 / 6.0) - 0.02, (2 / 6.0) + 0.02);
        Assert.InRange(answers["C"] / 10_000.0, (3 / 6.0) - 0.02, (3 / 6.0) + 0.02);
        var lookup = proxy.Services.GetRequiredService<IProxyStateLookup>();
        Assert.True(lookup.TryGetCluster("api", out var cluster));
        Assert.Equal(_backends.Select(b => $"127.0.0.1:{b.Port}").Order(), cluster!.Destinations.Keys.Order());
        Assert.Equal("api", Assert.Single(proxy.Registry.GetStatus().Upstreams).Key);
    }

    [Fact]
    public async Task HashByHeader_SameKeySameDestination_AndRemovingOneOfFourMovesAboutAQuarter()
    {
        await using var fourth = await Backend.StartAsync("D");
        var backends = _backends.Append(fourth).ToList();
        var upstream = YarpProxy.Upstream(backends);
        upstream.Mode = BalancingModes.Hash;
        await using var proxy = await YarpProxy.StartAsync(upstream, clusterMetadata: new Dictionary<string, string> { [CheckupsYarpMetadata.HashKey] = "header:X-User" });
        async Task<string> ServerOf(string user)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/profile");
            request.Headers.Add("X-User", user);
            using var response = await proxy.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadAsStringAsync();
        }

        var users = Enumerable.Range(0, 400).Select(i => "user-" + i).ToList();
        var before = new Dictionary<string, string>();
        foreach (string user in users)
        {
            before[user] = await ServerOf(user);
            Assert.Equal(before[user], await ServerOf(user));
        }

        var without = YarpProxy.Upstream(_backends);
        without.Mode = BalancingModes.Hash;
        proxy.Registry.Update("api", without);
        int moved = 0;
        foreach (string user in users)
        {
            string after = await ServerOf(user);
            Assert.NotEqual("D", after);
            moved += after == before[user] ? 0 : 1;
            Assert.True(before[user] == "D" || after == before[user] || moved < 400, "a key moved");
        }

        // Every key of the server removed moves; of the others, Maglev moves only a few (its minimal disruption).
        int onD = before.Values.Count(s => s == "D");
        Assert.InRange(onD, 60, 140);
        Assert.InRange(moved, onD, onD + (int)(0.05 * users.Count));
    }

    [Fact]
    public async Task RollingRestart_EveryBackendStoppedAndRestarted_Under32ConcurrentGets_NoRequestFails()
    {
        var time = new FakeTimeProvider();
        var upstream = YarpProxy.Upstream(_backends);
        upstream.Try = 3;

        // Attempt timeouts far beyond the clock's moves below, which are only to end a restarted server's fail timeout.
        upstream.Timeouts.Connect = TimeSpan.FromMinutes(10);
        upstream.Timeouts.Read = TimeSpan.FromMinutes(10);
        foreach (var server in upstream.Servers)
        {
            (server.MaxFails, server.FailTimeout) = (1, TimeSpan.FromSeconds(30));
        }

        await using var proxy = await YarpProxy.StartAsync(upstream, time: time);
        using var done = new CancellationTokenSource();
        var load = LoadAsync(proxy.Client, 200_000, loops: 32, done.Token);
        var served = new List<int>();
        foreach (var backend in _backends)
        {
            await WaitForRequestsAsync(_backends, 300);
            await backend.StopAsync();
            await WaitForRequestsAsync(_backends.Where(b => b != backend).ToList(), 300);
            await backend.RestartAsync();

            // Its failures put it out for its fail timeout: the test moves the clock past it, and it serves again.
            time.Advance(TimeSpan.FromSeconds(31));
            served.Add(backend.Requests);
        }

        await WaitForRequestsAsync(_backends, 300);
        await done.CancelAsync();
        var (answers, failures) = await load.WaitAsync(TimeSpan.FromMinutes(2));

        Assert.Empty(failures);
        Assert.All(_backends.Zip(served), pair => Assert.True(pair.First.Requests > pair.Second, $"{pair.First.Name} served nothing after its restart"));
        Assert.All(proxy.Registry.GetStatus().Upstreams["api"].Clusters[0].Servers, s => Assert.Equal(0, s.InFlight));
        Assert.True(answers.Values.Sum() > 0);
    }

    /// <summary>Waits (bounded, woken by each request) until each backend has served <paramref name="more"/> requests more than now.</summary>
    private static async Task WaitForRequestsAsync(IReadOnlyList<Backend> backends, int more)
    {
        var reached = await Task.WhenAll(backends.Select(b => b.WhenRequestsAsync(b.Requests + more, TimeSpan.FromSeconds(60))));
        Assert.True(reached.All(r => r), "the load did not reach every backend");
    }

    [Fact]
    public async Task Post_NotRetriedUnlessOptedIn_ThenRetriedWithItsBodyIntact()
    {
        await _backends[0].StopAsync();

        await using (var plain = await YarpProxy.StartAsync(YarpProxy.Upstream(_backends)))
        {
            using var refused = await plain.Client.PostAsync("/orders", new StringContent("payload", Encoding.UTF8, "text/plain"));
            Assert.Equal(HttpStatusCode.BadGateway, refused.StatusCode);
            Assert.Null(_backends[1].LastBody);
        }

        await using var opted = await YarpProxy.StartAsync(YarpProxy.Upstream(_backends), yarp: options =>
        {
            options.RetryNonIdempotent = true;
            options.BufferRequestBodies = true;
        });
        using var retries = new MetricCollector<long>(opted.Services.GetRequiredService<IMeterFactory>(), "Checkups", "checkups.http.retries");
        using var attempts = new MetricCollector<long>(opted.Services.GetRequiredService<IMeterFactory>(), "Checkups", "checkups.http.attempts");
        using var retried = await opted.Client.PostAsync("/orders", new StringContent("payload", Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        Assert.Equal("B:payload", await retried.Content.ReadAsStringAsync());

        // Counted where the HttpClient handler's retries and attempts are counted.
        Assert.Equal(1, Assert.Single(retries.GetMeasurementSnapshot()).Value);
        Assert.Equal(new[] { "error", "success" }, attempts.GetMeasurementSnapshot().Select(m => (string)m.Tags["checkups.outcome"]!).Order());
    }

    [Fact]
    public async Task HangingBackend_TheAttemptEndsAtItsTimeout_AndTheRequestGoesElsewhere()
    {
        var time = new FakeTimeProvider();
        var upstream = YarpProxy.Upstream(_backends);
        upstream.TryTimeout = TimeSpan.FromSeconds(5);
        upstream.Timeouts.Connect = TimeSpan.FromMilliseconds(200);
        upstream.Timeouts.Read = TimeSpan.FromMilliseconds(300);
        upstream.Servers[0].MaxFails = 1;
        await using var proxy = await YarpProxy.StartAsync(upstream, time: time);
        _backends[0].Hang = true;

        var pending = proxy.Client.GetStringAsync("/slow");
        Assert.True(await _backends[0].WhenRequestsAsync(1), "the first attempt never reached the hanging backend");
        Assert.Equal(1, _backends[0].Requests);
        time.Advance(TimeSpan.FromMilliseconds(499));
        Assert.False(pending.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal("B", await pending.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(HealthStatus.Err, proxy.Registry.GetStatus().Upstreams["api"].Clusters[0].Servers[0].Status);
    }

    [Fact]
    public async Task SlowBody_OutlivesTheAttemptTimeout_AndTheServerIsNotBlamed()
    {
        // The attempt timeout bounds the wait for an answer: once the headers are in, a body streamed for longer than
        // Connect + Read reaches the client whole, and the server stays in rotation.
        var time = new FakeTimeProvider();
        var upstream = YarpProxy.Upstream(_backends);
        upstream.Timeouts.Connect = TimeSpan.FromMilliseconds(200);
        upstream.Timeouts.Read = TimeSpan.FromMilliseconds(300);
        upstream.Servers[0].MaxFails = 1;
        await using var proxy = await YarpProxy.StartAsync(upstream, time: time);
        var rest = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _backends[0].BodyGate = rest.Task;

        using var response = await proxy.Client.GetAsync("/stream", HttpCompletionOption.ResponseHeadersRead).WaitAsync(TimeSpan.FromSeconds(30));
        time.Advance(TimeSpan.FromSeconds(10));
        rest.SetResult();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("A:done", await response.Content.ReadAsStringAsync().WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.NotEqual(HealthStatus.Err, proxy.Registry.GetStatus().Upstreams["api"].Clusters[0].Servers[0].Status);
    }

    [Fact]
    public async Task UpstreamRemovedWhileRequestsAreInFlight_LosesNone_AndLaterRequestsFindNoServer()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        foreach (var backend in _backends)
        {
            backend.Gate = gate.Task;
        }

        await using var proxy = await YarpProxy.StartAsync(YarpProxy.Upstream(_backends));
        var inFlight = Enumerable.Range(0, 12).Select(_ => proxy.Client.GetAsync("/held")).ToList();
        Assert.True(await Backend.WhenAsync(_backends, () => _backends.Sum(b => b.Requests) >= 12), "the 12 requests did not all reach a backend");
        Assert.Equal(12, _backends.Sum(b => b.Requests));
        Assert.True(proxy.Registry.Delete("api"));
        gate.SetResult();

        foreach (var request in inFlight)
        {
            using var response = await request.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using var after = await proxy.Client.GetAsync("/later");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, after.StatusCode);
    }

    [Fact]
    public async Task YarpsOwnPipeline_UrlHash_KeepsEachPathOnOneDestination_AsUseCheckupsDoes()
    {
        var upstream = YarpProxy.Upstream(_backends);
        upstream.Mode = BalancingModes.UrlHash;
        await using var proxy = await YarpProxy.StartAsync(upstream, useCheckups: false);

        var byPath = new Dictionary<string, HashSet<string>>();
        for (int i = 0; i < 64; i++)
        {
            string path = "/item/" + (i % 16).ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!byPath.TryGetValue(path, out var answers))
            {
                byPath[path] = answers = new HashSet<string>();
            }

            answers.Add(await proxy.Client.GetStringAsync(path));
        }

        Assert.All(byPath.Values, answers => Assert.Single(answers));
        Assert.True(byPath.Values.Select(answers => answers.Single()).Distinct().Count() > 1, "16 paths all hashed to one server");
    }

    [Fact]
    public async Task YarpsOwnPipeline_WithThePolicyNamedCheckups_PicksByTheUpstreamsWeights_AndReportsFailures()
    {
        var upstream = YarpProxy.Upstream(_backends, 1, 1, 2);
        upstream.Servers[0].MaxFails = 1;
        await using var proxy = await YarpProxy.StartAsync(
            upstream,
            clusterMetadata: null,
            useCheckups: false,
            yarp: null);
        _backends[0].Status = 503;

        var (answers, failures) = await LoadAsync(proxy.Client, 400, loops: 1);

        // A answered 503 once (its failure status), was reported, and left the rotation; B and C share by weight.
        Assert.Single(failures);
        Assert.Equal(HealthStatus.Err, proxy.Registry.GetStatus().Upstreams["api"].Clusters[0].Servers[0].Status);
        Assert.InRange(answers["C"] / (double)(answers["B"] + answers["C"]), 0.6, 0.73);
    }
}
