using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Execution;
using Checkups.Registry;
using Checkups.Status;
using Checkups.TestUtils;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Checkups.Http.Tests;

/// <summary>The handler against real Kestrel backends on 127.0.0.1.</summary>
public sealed class CheckupsHttpHandlerTests : IAsyncLifetime
{
    private readonly List<Backend> _backends = new();

    public Task InitializeAsync() => Backend.StartAllAsync(_backends, "A", "B", "C");

    public Task DisposeAsync() => Backend.DisposeAllAsync(_backends);

    private UpstreamRegistry Registry(Action<UpstreamOptions>? configure = null, params int[] weights) =>
        Registry(null, configure, weights);

    private UpstreamRegistry Registry(TimeProvider? time, Action<UpstreamOptions>? configure, params int[] weights)
    {
        var upstream = new UpstreamOptions();
        for (int i = 0; i < _backends.Count; i++)
        {
            upstream.Servers.Add(new ServerOptions { Host = "127.0.0.1", Port = _backends[i].Port, Weight = weights.Length > i ? weights[i] : 1 });
        }

        configure?.Invoke(upstream);
        var options = new CheckupsOptions();
        options.Upstreams.Add("api", upstream);
        return new UpstreamRegistry(options, time);
    }

    private void OnlyA(UpstreamOptions upstream)
    {
        upstream.Servers.Clear();
        upstream.Servers.Add(new ServerOptions { Host = "127.0.0.1", Port = _backends[0].Port });
    }

    private static HttpClient Client(UpstreamRegistry registry, CheckupsHttpOptions? options = null, TimeProvider? time = null, ILogger? logger = null) =>
        new(new CheckupsHttpHandler(registry, "api", options, time, logger) { InnerHandler = new SocketsHttpHandler() })
        {
            BaseAddress = new Uri("http://api/"),
            Timeout = TimeSpan.FromSeconds(60),
        };

    [Fact]
    public async Task SendAsync_SequentialRequests_FollowWeightedRoundRobinExactly()
    {
        using var registry = Registry(null, 1, 2, 3);
        using var client = Client(registry);
        var names = new StringBuilder();
        for (int i = 0; i < 12; i++)
        {
            names.Append(await client.GetStringAsync("/who"));
        }

        Assert.Equal("CBACBCCBACBC", names.ToString());
    }

    [Fact]
    public async Task SendAsync_RewritesAddressKeepsPathAndQueryAndRestoresTheRequest()
    {
        using var registry = Registry(OnlyA);
        using var client = Client(registry);
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://api/some/path?q=1");

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new Uri("http://api/some/path?q=1"), request.RequestUri);
        Assert.Equal("api", _backends[0].LastHost);
    }

    [Fact]
    public async Task SendAsync_HostHeaderServer_SendsTheServersAuthority()
    {
        using var registry = Registry(OnlyA);
        using var client = Client(registry, new CheckupsHttpOptions { HostHeader = CheckupsHostHeader.Server });

        await client.GetStringAsync("/");

        Assert.Equal($"127.0.0.1:{_backends[0].Port}", _backends[0].LastHost);
    }

    [Fact]
    public async Task SendAsync_BackendStopped_EveryRequestSucceedsOnTheOthers()
    {
        using var registry = Registry(upstream => upstream.Try = 2);
        using var client = Client(registry);
        await _backends[1].StopAsync();

        var names = new List<string>();
        for (int i = 0; i < 30; i++)
        {
            names.Add(await client.GetStringAsync("/"));
        }

        Assert.DoesNotContain("B", names);
        Assert.Contains("A", names);
        Assert.Contains("C", names);
    }

    [Fact]
    public async Task SendAsync_RecordsRequestsAttemptsRetriesOnTheCheckupsMeter()
    {
        var upstream = new UpstreamOptions { Try = 3 };
        foreach (var backend in _backends)
        {
            upstream.Servers.Add(new ServerOptions { Host = "127.0.0.1", Port = backend.Port });
        }

        var options = new CheckupsOptions();
        options.Upstreams.Add("metered", upstream);
        using var registry = new UpstreamRegistry(options);
        using var client = new HttpClient(new CheckupsHttpHandler(registry, "metered") { InnerHandler = new SocketsHttpHandler() }) { BaseAddress = new Uri("http://metered/") };
        _backends[0].Status = 503;
        var seen = new System.Collections.Concurrent.ConcurrentQueue<(string Instrument, string? Outcome)>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Checkups" && instrument.Name.StartsWith("checkups.http.", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Record(System.Diagnostics.Metrics.Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string? upstreamTag = null, outcome = null;
            foreach (var tag in tags)
            {
                upstreamTag = tag.Key == "checkups.upstream" ? tag.Value as string : upstreamTag;
                outcome = tag.Key == "checkups.outcome" ? tag.Value as string : outcome;
            }

            if (upstreamTag == "metered")
            {
                seen.Enqueue((instrument.Name, outcome));
            }
        }

        listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) => Record(instrument, tags));
        listener.SetMeasurementEventCallback<double>((instrument, _, tags, _) => Record(instrument, tags));
        listener.Start();

        for (int i = 0; i < 6; i++)
        {
            using var response = await client.GetAsync("/");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        int Count(string name, string? outcome = null) => seen.Count(m => m.Instrument == name && (outcome is null || m.Outcome == outcome));
        Assert.Equal(6, Count("checkups.http.requests"));
        Assert.True(Count("checkups.http.retries") > 0);
        Assert.Equal(Count("checkups.http.requests") + Count("checkups.http.retries"), Count("checkups.http.attempts"));
        Assert.Equal(Count("checkups.http.retries"), Count("checkups.http.attempts", "failure_status"));
        Assert.Equal(6, Count("checkups.http.attempts", "success"));
        Assert.Equal(Count("checkups.http.attempts"), Count("checkups.http.attempt.duration"));
    }

    [Fact]
    public async Task SendAsync_Get503_RetriedOnAnotherServer()
    {
        using var registry = Registry(upstream => upstream.Try = 3);
        using var client = Client(registry);
        _backends[0].Status = 503;

        for (int i = 0; i < 9; i++)
        {
            using var response = await client.GetAsync("/");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.NotEqual("A", await response.Content.ReadAsStringAsync());
        }

        Assert.True(_backends[0].Requests > 0);
    }

    [Fact]
    public async Task SendAsync_Post503_NotRetriedUnlessOptedIn()
    {
        using var registry = Registry(upstream => upstream.Try = 3);
        using var client = Client(registry);
        foreach (var backend in _backends)
        {
            backend.Status = 503;
        }

        using var response = await client.PostAsync("/", new StringContent("payload"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1, _backends.Sum(b => b.Requests));
    }

    [Fact]
    public async Task SendAsync_Post503OptedIn_RetriedWithTheBodyIntact()
    {
        using var registry = Registry(upstream => upstream.Try = 3);
        using var client = Client(registry, new CheckupsHttpOptions { RetryNonIdempotent = true });
        _backends[2].Status = 503;

        // WRR with equal weights: A, B, C, A…; the third request goes to C first, fails, and is sent again to A.
        for (int i = 0; i < 2; i++)
        {
            using var warm = await client.PostAsync("/", new StringContent("warm"));
        }

        using var response = await client.PostAsync("/", new StringContent("the body, intact"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("the body, intact", _backends[2].LastBody);
        Assert.Equal("A:the body, intact", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task SendAsync_EveryServer503_ReturnsTheLastResponse()
    {
        using var registry = Registry(upstream => upstream.Try = 3);
        using var client = Client(registry);
        foreach (var backend in _backends)
        {
            backend.Status = 503;
        }

        using var response = await client.GetAsync("/");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(3, _backends.Sum(b => b.Requests));
    }

    [Fact]
    public async Task SendAsync_EveryServerDown_ThrowsNamingTheUpstreamAndEachAttempt()
    {
        using var registry = Registry(upstream => upstream.Try = 3);
        using var client = Client(registry);
        foreach (var backend in _backends)
        {
            await backend.StopAsync();
        }

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/"));

        var inner = Assert.IsType<NoServerAvailableException>(error.InnerException);
        Assert.Equal("api", inner.Upstream);
        Assert.Equal(3, inner.Attempts.Count);
        Assert.Equal(CallStopReason.TryLimitReached, inner.Reason);
    }

    [Fact]
    public async Task SendAsync_HungBackend_AttemptTimesOutAndTheNextServerAnswers()
    {
        var time = new FakeTimeProvider();
        using var registry = Registry(time, upstream =>
        {
            upstream.Try = 2;
            upstream.Timeouts.Connect = TimeSpan.FromMilliseconds(200);
            upstream.Timeouts.Read = TimeSpan.FromMilliseconds(300);
        });
        var logs = new FakeLogCollector();
        using var client = Client(registry, time: time, logger: new FakeLogger(logs, HttpLog.Category));
        _backends[0].Hang = true;

        // The first request goes to A (WRR, equal weights), which never answers; the attempt's clock runs out.
        var pending = client.GetStringAsync("/");
        Assert.True(SpinWait.SpinUntil(() => _backends[0].Requests == 1, TimeSpan.FromSeconds(30)));
        Assert.False(pending.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(499));
        Assert.False(pending.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal("B", await pending);
        Assert.Equal(1, _backends[0].Requests);
        var failed = Assert.Single(logs.GetSnapshot(), entry => entry.Id.Id == HttpLog.EventIds.AttemptFailed);
        Assert.Equal(LogLevel.Warning, failed.Level);
        Assert.Contains($"127.0.0.1:{_backends[0].Port}", failed.Message);
        Assert.Contains("within 500 ms", failed.Message);
        Assert.Contains(logs.GetSnapshot(), entry => entry.Id.Id == HttpLog.EventIds.Retrying);
    }

    [Fact]
    public async Task SendAsync_HangingBackendAmongThree_TimedOutGetsGoElsewhere_NoneFails_AndTheHungServerIsLeftOut()
    {
        // Everything that could pile onto the hung server does at once (30 concurrent GETs, a third of them to it);
        // their attempts end at connect + read, within the try timeout, and go on to the other servers.
        var time = new FakeTimeProvider();
        using var registry = Registry(time, upstream =>
        {
            upstream.Try = 3;
            upstream.TryTimeout = TimeSpan.FromSeconds(2);
            upstream.Timeouts.Connect = TimeSpan.FromMilliseconds(200);
            upstream.Timeouts.Read = TimeSpan.FromMilliseconds(300);
            foreach (var server in upstream.Servers)
            {
                (server.MaxFails, server.FailTimeout) = (2, TimeSpan.FromSeconds(30));
            }
        });
        using var client = Client(registry, time: time);
        var hung = _backends[0];
        hung.Hang = true;
        int completed = 0;

        var gets = Enumerable.Range(0, 30).Select(_ => Task.Run(async () =>
        {
            try
            {
                return await client.GetStringAsync("/");
            }
            finally
            {
                Interlocked.Increment(ref completed);
            }
        })).ToArray();
        Assert.True(
            SpinWait.SpinUntil(() => hung.Requests + Volatile.Read(ref completed) == gets.Length, TimeSpan.FromSeconds(60)),
            $"{hung.Requests} held by the hung server and {completed} completed of {gets.Length}");
        Assert.Equal(10, hung.Requests);

        // Half a second of the handler's clock: every attempt to the hung server ends; nothing more is needed.
        time.Advance(TimeSpan.FromMilliseconds(500));
        string[] answers = await Task.WhenAll(gets);

        Assert.DoesNotContain("A", answers);
        Assert.Equal(30, answers.Length);
        var a = registry.GetStatus().Upstreams["api"].Clusters[0].Servers[0];
        Assert.Equal(HealthStatus.Err, a.Status);
        for (int i = 0; i < 30; i++)
        {
            Assert.NotEqual("A", await client.GetStringAsync("/"));
        }

        Assert.Equal(10, hung.Requests);
    }

    [Fact]
    public async Task SendAsync_HangingBackend_AttemptEndsWithTheTryTimeout_NotItsOwnLongerOne()
    {
        var time = new FakeTimeProvider();
        using var registry = Registry(time, upstream =>
        {
            upstream.Try = 3;
            upstream.TryTimeout = TimeSpan.FromSeconds(2);
            upstream.Timeouts.Connect = TimeSpan.FromSeconds(10);
            upstream.Timeouts.Read = TimeSpan.FromSeconds(60);
            upstream.Servers[0].MaxFails = 1;
        });
        var logs = new FakeLogCollector();
        using var client = Client(registry, time: time, logger: new FakeLogger(logs, HttpLog.Category));
        _backends[0].Hang = true;

        var pending = client.GetAsync("/");
        Assert.True(SpinWait.SpinUntil(() => _backends[0].Requests == 1, TimeSpan.FromSeconds(30)));
        time.Advance(TimeSpan.FromMilliseconds(1999));
        Assert.False(pending.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));

        // No attempt outlives the try timeout: the request ends at 2 s, not at the attempt's 70 s, and says why.
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => pending);
        var inner = Assert.IsType<TryTimeoutException>(error.InnerException);
        Assert.Equal(TimeSpan.FromSeconds(2), inner.TryTimeout);
        Assert.Contains("the rest of the try timeout of 2000 ms", Assert.Single(logs.GetSnapshot(), e => e.Id.Id == HttpLog.EventIds.AttemptFailed).Message);

        // The timeout counted against the server: the next requests go elsewhere.
        Assert.Equal(HealthStatus.Err, registry.GetStatus().Upstreams["api"].Clusters[0].Servers[0].Status);
        Assert.Equal("B", await client.GetStringAsync("/"));
        Assert.Equal(1, _backends[0].Requests);
    }

    [Fact]
    public async Task SendAsync_UrlHash_SamePathSameServerAndRequestKeyOverrides()
    {
        using var registry = Registry(upstream => upstream.Mode = BalancingModes.UrlHash);
        using var client = Client(registry);

        var byPath = new Dictionary<string, string>();
        for (int i = 0; i < 20; i++)
        {
            string path = "/users/" + i;
            byPath[path] = await client.GetStringAsync(path);
        }

        foreach (var (path, name) in byPath)
        {
            Assert.Equal(name, await client.GetStringAsync(path));
        }

        Assert.True(byPath.Values.Distinct().Count() > 1);

        // A key given with the request places it as that key places any other request.
        string keyed = byPath["/users/3"];
        for (int i = 0; i < 5; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/anything/" + i);
            request.Options.Set(CheckupsRequestOptions.HashKey, "/users/3");
            using var response = await client.SendAsync(request);
            Assert.Equal(keyed, await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task SendAsync_HeaderHash_SameHeaderSameServer()
    {
        using var registry = Registry(upstream =>
        {
            upstream.Mode = BalancingModes.HeaderHash;
            upstream.Hash.Header = "X-User";
        });
        using var client = Client(registry);

        async Task<string> AsUser(string user, string path)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Add("X-User", user);
            using var response = await client.SendAsync(request);
            return await response.Content.ReadAsStringAsync();
        }

        for (int u = 0; u < 10; u++)
        {
            string first = await AsUser("user-" + u, "/a");
            Assert.Equal(first, await AsUser("user-" + u, "/b/" + u));
        }
    }

    [Fact]
    public async Task SendAsync_CallerCancels_NotAFailureAndNotRetried()
    {
        using var registry = Registry(upstream =>
        {
            upstream.Try = 3;
            foreach (var server in upstream.Servers)
            {
                server.MaxFails = 1;
            }
        });
        using var client = Client(registry);
        foreach (var backend in _backends)
        {
            backend.Hang = true;
        }

        using var cancel = new CancellationTokenSource();
        var pending = client.GetAsync("/", cancel.Token);
        Assert.True(SpinWait.SpinUntil(() => _backends.Sum(b => b.Requests) == 1, TimeSpan.FromSeconds(30)));
        Assert.Equal(1, registry.GetStatus().Upstreams["api"].Clusters.SelectMany(c => c.Servers).Sum(server => server.InFlight));
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
        Assert.Equal(1, _backends.Sum(b => b.Requests));
        var status = registry.GetStatus().Upstreams["api"].Clusters.SelectMany(c => c.Servers).ToList();
        Assert.All(status, server => Assert.Equal("ok", server.Status));
        Assert.All(status, server => Assert.Equal(0, server.FailCount));
        Assert.All(status, server => Assert.Equal(0, server.InFlight));
    }

    [Fact]
    public async Task SendAsync_InnerHandlerThrowsSomethingElse_ReleasedWithoutAVerdictAndRethrown()
    {
        using var registry = Registry(upstream => upstream.Try = 3);
        using var client = new HttpClient(new CheckupsHttpHandler(registry, "api") { InnerHandler = new Throwing() }) { BaseAddress = new Uri("http://api/") };

        await Assert.ThrowsAsync<InvalidOperationException>(() => client.GetAsync("/"));

        var status = registry.GetStatus().Upstreams["api"].Clusters.SelectMany(c => c.Servers).ToList();
        Assert.All(status, server => Assert.Equal(0, server.InFlight));
        Assert.All(status, server => Assert.Equal(0, server.FailCount));
    }

    private sealed class Throwing : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("not sendable");
    }

    [Fact]
    public async Task SendAsync_EachRequestGoesToItsOwnPathAndQuery_AndARepeatedOneReusesItsAddress()
    {
        string[] paths = ["/a?x=1", "/a?x=1", "/b", "/a?x=1", "/a?x=1", "/a?x=2", "/a?x=2", "/A?x=2"];
        using (var registry = Registry(upstream => upstream.Servers.RemoveAt(2), 1, 1))
        {
            var seen = new Recording();
            using var client = new HttpClient(new CheckupsHttpHandler(registry, "api") { InnerHandler = seen });
            foreach (string path in paths)
            {
                using var response = await client.GetAsync("http://api" + path);
            }

            // Round robin over two servers: each request reaches its server with its own path and query, whatever came before.
            Assert.Equal(paths, seen.Addresses.Select(address => address.PathAndQuery));
            Assert.Equal(2, seen.Addresses.Select(address => address.Port).Distinct().Count());
        }

        using (var registry = Registry(OnlyA))
        {
            var seen = new Recording();
            using var client = new HttpClient(new CheckupsHttpHandler(registry, "api") { InnerHandler = seen });
            foreach (string path in paths)
            {
                using var response = await client.GetAsync("http://api" + path);
            }

            Assert.Equal(paths, seen.Addresses.Select(address => address.PathAndQuery));

            // The same path and query again on the same server: one address, shared (a Uri is immutable); another one in
            // between, or a path that differs in case only, builds a new one.
            Assert.Same(seen.Addresses[0], seen.Addresses[1]);
            Assert.NotSame(seen.Addresses[1], seen.Addresses[3]);
            Assert.Same(seen.Addresses[3], seen.Addresses[4]);
            Assert.NotSame(seen.Addresses[6], seen.Addresses[7]);
        }
    }

    /// <summary>Answers 200 and keeps each address it was sent to.</summary>
    private sealed class Recording : HttpMessageHandler
    {
        public List<Uri> Addresses { get; } = new();

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Addresses.Add(request.RequestUri!);
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
        }
    }

    [Fact]
    public async Task SendAsync_OtherHost_PassesThroughUntouched()
    {
        using var registry = Registry();
        using var client = Client(registry);

        string name = await client.GetStringAsync($"http://127.0.0.1:{_backends[1].Port}/");

        Assert.Equal("B", name);
    }

    [Fact]
    public async Task AddCheckups_ClientFromTheFactory_BalancesOverTheUpstream()
    {
        var services = new ServiceCollection();
        services.AddCheckups(options =>
        {
            var upstream = new UpstreamOptions();
            upstream.Servers.Add(new ServerOptions { Host = "127.0.0.1", Port = _backends[2].Port });
            options.Upstreams.Add("api", upstream);
        });
        services.AddHttpClient("api-client", client => client.BaseAddress = new Uri("http://api/"))
            .AddCheckups("api", options => options.HostHeader = CheckupsHostHeader.Server);
        await using var provider = services.BuildServiceProvider();

        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("api-client");

        Assert.Equal("C", await client.GetStringAsync("/"));
        Assert.Equal($"127.0.0.1:{_backends[2].Port}", _backends[2].LastHost);
    }

    [Fact]
    public void AddCheckups_BadArguments_Throw()
    {
        var builder = new ServiceCollection().AddHttpClient("x");

        Assert.Throws<ArgumentNullException>(() => ((IHttpClientBuilder)null!).AddCheckups("api"));
        Assert.Throws<ArgumentException>(() => builder.AddCheckups(" "));
        Assert.Throws<ArgumentNullException>(() => builder.AddCheckups("api", (Action<CheckupsHttpOptions>)null!));
        Assert.Throws<ArgumentNullException>(() => new CheckupsHttpHandler(null!, "api"));
    }

    [Fact]
    public async Task SendAsync_FailureStorm_RetryBudgetCapsRetries()
    {
        using var registry = Registry(upstream => upstream.Try = 3);
        var logs = new FakeLogCollector();
        using var client = Client(registry, new CheckupsHttpOptions { RetryBudgetRatio = 0.2, RetryBudgetMinPerSecond = 0 }, logger: new FakeLogger(logs, HttpLog.Category));
        foreach (var backend in _backends)
        {
            backend.Status = 503;
        }

        const int Requests = 100;
        for (int i = 0; i < Requests; i++)
        {
            using var response = await client.GetAsync("/");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }

        // Without a budget every request would try all three servers (300 attempts); the budget allows a fifth of the
        // requests a retry, fading slightly with time.
        int attempts = _backends.Sum(b => b.Requests);
        Assert.InRange(attempts, Requests + 1, Requests + (Requests / 5));
        // A request the budget did not refuse made both its retries.
        int retries = attempts - Requests;
        int refused = logs.GetSnapshot().Count(entry => entry.Id.Id == HttpLog.EventIds.RetryBudgetExhausted);
        Assert.InRange(refused, Requests - (retries / 2), Requests);
        Assert.Equal(Requests, logs.GetSnapshot().Count(entry => entry.Id.Id == HttpLog.EventIds.RequestFailed));
    }

    [Fact]
    public void Options_OutOfRange_ThrowNamingEachValue()
    {
        using var registry = Registry();
        var bad = new CheckupsHttpOptions { Scheme = "ftp", RetryBudgetRatio = -1, RetryBudgetWindow = TimeSpan.Zero };

        var error = Assert.Throws<ArgumentException>(() => new CheckupsHttpHandler(registry, "api", bad));

        Assert.Contains("Scheme must be http or https (was ftp)", error.Message, StringComparison.Ordinal);
        Assert.Contains("RetryBudgetRatio", error.Message, StringComparison.Ordinal);
        Assert.Contains("RetryBudgetWindow", error.Message, StringComparison.Ordinal);
    }
}
