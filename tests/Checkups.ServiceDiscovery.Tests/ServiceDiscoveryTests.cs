using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Registry;
using Checkups.ServiceDiscovery;
using Checkups.TestUtils;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Checkups.ServiceDiscovery.Tests;

/// <summary>Checkups where .NET services already are: ServiceDiscovery's names and configuration, Http.Resilience, on real Kestrel backends.</summary>
public sealed class ServiceDiscoveryTests : IAsyncLifetime
{
    private readonly List<Backend> _backends = new();

    public Task InitializeAsync() => Backend.StartAllAsync(_backends, "A", "B", "C");

    public Task DisposeAsync() => Backend.DisposeAllAsync(_backends);

    /// <summary>A host whose configuration is <paramref name="values"/> (replaceable: a replace is a reload).</summary>
    private static (IHost Host, ReplaceableConfiguration Configuration) Host(IDictionary<string, string?> values, Action<IServiceCollection> configure)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        var source = new ReplaceableConfiguration(values);
        ((IConfigurationBuilder)builder.Configuration).Add(source);
        builder.Services.AddSingleton<IConfiguration>(builder.Configuration);
        configure(builder.Services);
        return (builder.Build(), source);
    }

    private string Endpoint(int backend) => $"127.0.0.1:{_backends[backend].Port}";

    private static async Task<HashSet<string>> AnswersAsync(HttpClient client, string address, int requests)
    {
        var answers = new HashSet<string>();
        for (int i = 0; i < requests; i++)
        {
            answers.Add(await client.GetStringAsync(address));
        }

        return answers;
    }

    [Fact]
    public async Task AspireStyleConfiguration_FeedsTheUpstream_AndAReloadReachesIt()
    {
        // Aspire writes services__api__http__0=http://…, which configuration reads as services:api:http:0; the query prefers
        // https, finds only http endpoints, and each server is sent the scheme it was discovered with.
        var (host, configuration) = Host(
            new Dictionary<string, string?> { ["services:api:http:0"] = "http://" + Endpoint(0), ["services:api:http:1"] = "http://" + Endpoint(1) },
            services =>
            {
                services.AddCheckups(options => options.HeartbeatEnabled = false).AddServiceDiscovery("https+http://api");
                services.AddHttpClient("api").AddCheckups("api");
            });
        using (host)
        {
            await host.StartAsync();
            var registry = host.Services.GetRequiredService<UpstreamRegistry>();
            var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("api");

            Assert.Equal("servicediscovery", registry.Get("api").Owner);
            Assert.Equal(new[] { "A", "B" }, (await AnswersAsync(client, "https+http://api/items", 20)).Order());

            // As ServiceDiscovery's own handler: the endpoint's authority, not the logical name (a certificate for the
            // endpoint's host validates).
            Assert.Equal(Endpoint(0), _backends[0].LastHost);

            // Each reload is read once its predecessor's change registration is in place; the watch keeps that one only.
            foreach (int backend in new[] { 1, 2, 1, 2 })
            {
                configuration.Replace(new Dictionary<string, string?> { ["services:api:http:0"] = "http://" + Endpoint(backend) });
                Assert.True(
                    await Upstreams.WhenAsync(registry, () => registry.Get("api").Clusters[0].Servers is [var only] && only.Port == _backends[backend].Port),
                    $"the reload to {_backends[backend].Name} did not reach the upstream");
            }

            Assert.Equal(1, host.Services.GetRequiredService<ServiceDiscoveryWatch>().Subscriptions);
            Assert.Equal(new[] { "C" }, await AnswersAsync(client, "http://api/items", 10));
            Assert.Null(registry.GetStatus().Sources["servicediscovery"].Status!.LastError);
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task ANameAnotherSourceOwns_IsLeftAlone_AndTheOtherServicesStillApply()
    {
        // The registry refuses a source's snapshot whole: a service whose name the configuration owns must not hold back
        // the changes of every other service.
        var logs = new AwaitableLogCollector();
        var (host, configuration) = Host(
            new Dictionary<string, string?> { ["services:api:http:0"] = "http://" + Endpoint(0), ["services:other:http:0"] = "http://" + Endpoint(1) },
            services =>
            {
                services.AddLogging(logging => logging.AddProvider(new FakeLoggerProvider(logs)));
                services.AddCheckups(options =>
                {
                    options.HeartbeatEnabled = false;
                    options.Upstreams["api"] = Upstreams.WithServers(Upstreams.Server(_backends[2].Port));
                }).AddServiceDiscovery("http://api").AddServiceDiscovery("http://other");
            });
        using (host)
        {
            await host.StartAsync();
            var registry = host.Services.GetRequiredService<UpstreamRegistry>();

            var refused = await logs.WhenLoggedAsync(402);
            Assert.Contains("belongs to the source 'configuration'", refused.Message, StringComparison.Ordinal);
            Assert.Equal("configuration", registry.Get("api").Owner);
            Assert.Equal(_backends[2].Port, Assert.Single(registry.Get("api").Clusters[0].Servers).Port);
            Assert.Equal("servicediscovery", registry.Get("other").Owner);

            configuration.Replace(new Dictionary<string, string?> { ["services:api:http:0"] = "http://" + Endpoint(0), ["services:other:http:0"] = "http://" + Endpoint(2) });
            Assert.True(
                await Upstreams.WhenAsync(registry, () => registry.Get("other").Clusters[0].Servers is [var only] && only.Port == _backends[2].Port),
                "the reload did not reach the upstream other");
            Assert.DoesNotContain(logs.GetSnapshot(), record => record.Id.Id == 10);
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task NamedEndpoint_IsAnUpstreamOfThatName_AndAnEmptyAnswerKeepsTheLastServers()
    {
        var logs = new AwaitableLogCollector();
        var (host, configuration) = Host(
            new Dictionary<string, string?> { ["services:api:grpc:0"] = Endpoint(1) },
            services =>
            {
                services.AddLogging(logging => logging.AddProvider(new FakeLoggerProvider(logs)));
                services.AddCheckups(options => options.HeartbeatEnabled = false).AddServiceDiscovery("http://_grpc.api");
                services.AddHttpClient("grpc").AddCheckups("_grpc.api");
            });
        using (host)
        {
            await host.StartAsync();
            var registry = host.Services.GetRequiredService<UpstreamRegistry>();
            var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("grpc");

            Assert.Equal(new[] { "B" }, await AnswersAsync(client, "http://_grpc.api/x", 3));

            configuration.Replace(new Dictionary<string, string?>());
            await logs.WhenLoggedAsync(402);

            Assert.Contains("no endpoint", registry.GetStatus().Sources["servicediscovery"].Status!.LastError, StringComparison.Ordinal);
            Assert.Equal(new[] { "B" }, await AnswersAsync(client, "http://_grpc.api/x", 3));
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task AnUnknownName_IsNoServer_EvenWithThePassThroughProvider()
    {
        // services.AddServiceDiscovery() registers the pass-through provider, which answers any name with itself (port 0).
        var (host, _) = Host(new Dictionary<string, string?> { ["services:api:http:0"] = "http://" + Endpoint(0) }, services =>
        {
            services.AddServiceDiscovery();
            services.AddCheckups(options => options.HeartbeatEnabled = false).AddServiceDiscovery("http://api").AddServiceDiscovery("http://apj");
        });
        using (host)
        {
            await host.StartAsync();
            var registry = host.Services.GetRequiredService<UpstreamRegistry>();

            Assert.Equal(_backends[0].Port, registry.Get("api").Clusters[0].Servers[0].Port);
            Assert.False(registry.TryGet("apj", out _));
            Assert.Contains("apj: ServiceDiscovery found no endpoint for 'http://apj' (only the pass-through provider answered", registry.GetStatus().Sources["servicediscovery"].Status!.LastError, StringComparison.Ordinal);
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task AspireServiceDefaults_ServiceDiscoveryOnEveryClient_CheckupsAloneBalancesItsClient()
    {
        // Aspire's service defaults: ConfigureHttpClientDefaults(http => { http.AddStandardResilienceHandler(); http.AddServiceDiscovery(); }).
        // Backend C is what ServiceDiscovery alone would send to; Checkups' upstream "api" is A and B, fed by configuration.
        var logs = new FakeLogCollector();
        var values = new Dictionary<string, string?>
        {
            ["services:api:http:0"] = "http://" + Endpoint(2),
            ["Checkups:HeartbeatEnabled"] = "false",
            ["Checkups:Upstreams:api:Servers:0:Host"] = "127.0.0.1",
            ["Checkups:Upstreams:api:Servers:0:Port"] = _backends[0].Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Checkups:Upstreams:api:Servers:1:Host"] = "127.0.0.1",
            ["Checkups:Upstreams:api:Servers:1:Port"] = _backends[1].Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        var (host, _) = Host(values, services =>
        {
            services.AddLogging(logging => logging.AddProvider(new FakeLoggerProvider(logs)));
            services.AddServiceDiscovery();
            services.ConfigureHttpClientDefaults(http =>
            {
                http.AddStandardResilienceHandler();
                http.AddServiceDiscovery();
            });
            services.AddCheckups(services.BuildServiceProvider().GetRequiredService<IConfiguration>().GetSection("Checkups"));
            services.AddHttpClient("api").AddCheckups("api");
            services.AddHttpClient("plain");
        });
        using (host)
        {
            await host.StartAsync();
            var factory = host.Services.GetRequiredService<IHttpClientFactory>();

            // The Checkups client: A and B only, ServiceDiscovery's handler left out and said so once.
            Assert.Equal(new[] { "A", "B" }, (await AnswersAsync(factory.CreateClient("api"), "http://api/items", 20)).Order());
            var removed = logs.GetSnapshot().Where(r => r.Id.Id == 107).ToList();
            Assert.Single(removed);
            Assert.Contains("HttpClient api", removed[0].Message, StringComparison.Ordinal);

            // Every other client keeps ServiceDiscovery.
            Assert.Equal(new[] { "C" }, await AnswersAsync(factory.CreateClient("plain"), "http://api/items", 3));

            // The resilience handler of the defaults sits outside Checkups: it owns the retries, said once.
            Assert.Single(logs.GetSnapshot(), r => r.Id.Id == 106);
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task WithResilience_EveryServerFailing_AttemptsAreCheckupsTries_NotTriesTimesPollysRetries()
    {
        foreach (var backend in _backends)
        {
            backend.Status = 503;
        }

        var upstream = new Dictionary<string, string?>();
        for (int i = 0; i < 3; i++)
        {
            upstream[$"Checkups:Upstreams:api:Servers:{i}:Host"] = "127.0.0.1";
            upstream[$"Checkups:Upstreams:api:Servers:{i}:Port"] = _backends[i].Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        upstream["Checkups:HeartbeatEnabled"] = "false";
        upstream["Checkups:Upstreams:api:Try"] = "3";
        var (host, _) = Host(upstream, services =>
        {
            services.AddCheckups(services.BuildServiceProvider().GetRequiredService<IConfiguration>().GetSection("Checkups"));

            // Checkups outside, owning retries across servers; Polly inside, one pipeline per server.
            services.AddHttpClient("owned").AddCheckupsWithResilience("api", o => o.Retry.Delay = TimeSpan.Zero);

            // The other order, as a user may write it: Polly's three retries outside, Checkups inside.
            services.AddHttpClient("naive").AddStandardResilienceHandler(o => o.Retry.Delay = TimeSpan.Zero).Services.AddHttpClient("naive").AddCheckups("api");
        });
        using (host)
        {
            await host.StartAsync();
            var factory = host.Services.GetRequiredService<IHttpClientFactory>();

            int before = _backends.Sum(b => b.Requests);
            using (var owned = await factory.CreateClient("owned").GetAsync("http://api/items"))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, owned.StatusCode);
            }

            int ownedAttempts = _backends.Sum(b => b.Requests) - before;
            using (var naive = await factory.CreateClient("naive").GetAsync("http://api/items"))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, naive.StatusCode);
            }

            int naiveAttempts = _backends.Sum(b => b.Requests) - before - ownedAttempts;

            // Three tries of Checkups; and, with Polly outside, Polly's four attempts with one Checkups try each, not 4 × 3.
            Assert.Equal(3, ownedAttempts);
            Assert.Equal(4, naiveAttempts);
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task WithResilience_PollysAttemptTimeoutEndsAHungAttempt_AndCheckupsGoesToAnotherServer()
    {
        var time = new FakeTimeProvider();
        _backends[0].Hang = true;
        var (host, _) = Host(new Dictionary<string, string?>(), services =>
        {
            services.AddSingleton<TimeProvider>(time);
            services.AddCheckups(options =>
            {
                options.HeartbeatEnabled = false;
                var api = new Checkups.Configuration.UpstreamOptions { Try = 3 };
                foreach (var backend in _backends)
                {
                    api.Servers.Add(new Checkups.Configuration.ServerOptions { Host = "127.0.0.1", Port = backend.Port });
                }

                // Checkups' own attempt timeout far above Polly's: Polly's ends the attempt, and the two do not fight.
                api.Timeouts.Connect = TimeSpan.FromMinutes(10);
                api.Timeouts.Read = TimeSpan.FromMinutes(10);
                options.Upstreams["api"] = api;
            });
            services.AddHttpClient("api").AddCheckupsWithResilience("api", o =>
            {
                o.AttemptTimeout.Timeout = TimeSpan.FromSeconds(1);
                o.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(2);
            });
        });
        using (host)
        {
            await host.StartAsync();
            var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("api");

            var pending = client.GetStringAsync("http://api/items");
            Assert.True(await _backends[0].WhenRequestsAsync(1), "the first attempt never reached A");
            Assert.Equal(1, _backends[0].Requests);
            time.Advance(TimeSpan.FromSeconds(1));

            Assert.Equal("B", await pending.WaitAsync(TimeSpan.FromSeconds(30)));
            await host.StopAsync();
        }
    }
}
