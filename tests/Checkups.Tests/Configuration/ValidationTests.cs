using System;
using System.Collections.Generic;
using Checkups.Configuration;
using Checkups.Registry;
using Checkups.TestUtils;

namespace Checkups.Tests.Configuration;

public sealed class ValidationTests
{
    private static ServerOptions S(int port = 8001) => Upstreams.Server(port);

    private static CheckupsOptions With(UpstreamOptions upstream, string name = "api")
    {
        var options = new CheckupsOptions();
        options.Upstreams.Add(name, upstream);
        return options;
    }

    private static UpstreamOptions One(Action<ServerOptions> change)
    {
        var server = S();
        change(server);
        return Upstreams.WithLevels(new[] { S(7000) }, new[] { S(7001), server });
    }

    public static TheoryData<string, Func<CheckupsOptions>, string> Cases() => new()
    {
        { "port too high", () => With(One(s => s.Port = 70000)), "Checkups:Upstreams:api:Clusters:1:Servers:1:Port must be between 1 and 65535 (was 70000)" },
        { "port zero", () => With(One(s => s.Port = 0)), "Checkups:Upstreams:api:Clusters:1:Servers:1:Port must be between 1 and 65535 (was 0)" },
        { "weight zero", () => With(One(s => s.Weight = 0)), "Checkups:Upstreams:api:Clusters:1:Servers:1:Weight must be between 1 and 1000000 (was 0)" },
        { "weight huge", () => With(One(s => s.Weight = 2_000_000)), "Checkups:Upstreams:api:Clusters:1:Servers:1:Weight must be between 1 and 1000000 (was 2000000)" },
        { "negative max_fails", () => With(One(s => s.MaxFails = -1)), "Checkups:Upstreams:api:Clusters:1:Servers:1:MaxFails must not be negative (was -1)" },
        { "negative fail_timeout", () => With(One(s => s.FailTimeout = TimeSpan.FromSeconds(-1))), "Checkups:Upstreams:api:Clusters:1:Servers:1:FailTimeout must not be negative; TimeSpan.MaxValue or Timeout.InfiniteTimeSpan (-00:00:00.001) mean never (was -00:00:01)" },
        { "zero fail_timeout with max_fails", () => With(One(s => { s.MaxFails = 2; s.FailTimeout = TimeSpan.Zero; })), "Checkups:Upstreams:api:Clusters:1:Servers:1:FailTimeout must be greater than zero when MaxFails is set (was 00:00:00)" },
        { "empty host", () => With(One(s => s.Host = "")), "Checkups:Upstreams:api:Clusters:1:Servers:1:Host must not be empty" },
        { "host with scheme", () => With(One(s => s.Host = "http://a")), "Checkups:Upstreams:api:Clusters:1:Servers:1:Host must be a host name or IP address without scheme or port (was 'http://a')" },
        { "host with space", () => With(One(s => s.Host = "a b")), "Checkups:Upstreams:api:Clusters:1:Servers:1:Host must be a host name or IP address without scheme or port (was 'a b')" },
        { "blank zone", () => With(One(s => s.Zone = " ")), "Checkups:Upstreams:api:Clusters:1:Servers:1:Zone must be null or non-empty (was ' ')" },
        { "empty metadata key", () => With(One(s => s.Metadata[""] = "x")), "Checkups:Upstreams:api:Clusters:1:Servers:1:Metadata must not contain an empty key" },
        { "duplicate server", () => With(Upstreams.WithServers(S(8001), S(8002), S(8001))), "Checkups:Upstreams:api:Servers:2 duplicates 127.0.0.1:8001 already listed at Checkups:Upstreams:api:Servers:0" },
        { "duplicate ipv6 written two ways", () => With(Upstreams.WithServers(Upstreams.Server(8001, host: "::1"), Upstreams.Server(8001, host: "[::1]"))), "Checkups:Upstreams:api:Servers:1 duplicates [::1]:8001 already listed at Checkups:Upstreams:api:Servers:0" },
        { "no servers at all", () => With(new UpstreamOptions()), "Checkups:Upstreams:api must define its servers in Servers, Clusters or NamedClusters" },
        { "servers and clusters", () => With(AndLevels(Upstreams.WithServers(S()))), "Checkups:Upstreams:api must define its servers in only one of Servers, Clusters or NamedClusters" },
        { "empty cluster", () => With(Upstreams.WithLevels(new[] { S() }, Array.Empty<ServerOptions>())), "Checkups:Upstreams:api:Clusters:1:Servers must contain at least one server" },
        { "empty named cluster", () => With(Named(("dc1", new[] { S() }), ("dc2", Array.Empty<ServerOptions>()))), "Checkups:Upstreams:api:NamedClusters:dc2:Servers must contain at least one server" },
        { "numeric cluster name", () => With(Named(("2", new[] { S() }))), "Checkups:Upstreams:api:NamedClusters:2 must not be named with a number (was '2'); use Clusters for levels" },
        { "unknown mode", () => With(Mode(Upstreams.WithServers(S()), "fastest-ever")), "Checkups:Upstreams:api:Mode must be one of wrr, hash, url_hash, ip_hash, header_hash, fastest, local, least_requests, p2c (was 'fastest-ever')" },
        { "try zero", () => With(Try(Upstreams.WithServers(S()), 0)), "Checkups:Upstreams:api:Try must be at least 1 (was 0)" },
        { "balance factor infinite", () => With(Hash(h => h.BalanceFactor = double.PositiveInfinity)), "Checkups:Upstreams:api:Hash:BalanceFactor must be a finite number of at least 1 (was Infinity)" },
        { "balance factor NaN", () => With(Hash(h => h.BalanceFactor = double.NaN)), "Checkups:Upstreams:api:Hash:BalanceFactor must be a finite number of at least 1 (was NaN)" },
        { "table size above the cap", () => With(Hash(h => h.TableSize = 2_147_483_587)), "Checkups:Upstreams:api:Hash:TableSize must be a prime number from 1009 to 12800009 (was 2147483587)" },
        { "connect timeout beyond timers", () => With(Timeouts(Upstreams.WithServers(S()), t => t.Connect = TimeSpan.FromDays(60))), "Checkups:Upstreams:api:Timeouts:Connect must be greater than zero and at most 49.17:02:47.2940000 (was 60.00:00:00)" },
        { "heartbeat interval beyond timers", () => Heartbeat(TimeSpan.FromDays(60)), "Checkups:HeartbeatInterval must be greater than zero and at most 49.17:02:47.2940000 (was 60.00:00:00)" },
        { "try timeout negative", () => With(TryTimeout(Upstreams.WithServers(S()), TimeSpan.FromSeconds(-2))), "Checkups:Upstreams:api:TryTimeout must be greater than zero; TimeSpan.MaxValue or Timeout.InfiniteTimeSpan (-00:00:00.001) mean never (was -00:00:02)" },
        { "misspelled probe type", () => With(Tuned(u => u.Heartbeat.Type = "htpp")), "Checkups:Upstreams:api:Heartbeat:Type must name a probe: one of http, mysql, redis, tcp (was 'htpp')" },
        { "CR LF in the probe's Host header", () => With(Tuned(u => u.Heartbeat.Http.Host = "api\r\nX-Injected: 1")), "Checkups:Upstreams:api:Heartbeat:Http:Host must be a host name without spaces, CR, LF or other control characters (was 'api\\u000d\\u000aX-Injected: 1')" },
        { "CR LF in the hash header name", () => With(Tuned(u => u.Hash.Header = "X-User\r\n")), "Checkups:Upstreams:api:Hash:Header must be a header name: letters, digits and !#$%&'*+-.^_`|~ only (was 'X-User\\u000d\\u000a')" },
        { "failure status out of range", () => With(Tuned(u => u.FailureStatuses.Add(600))), "Checkups:Upstreams:api:FailureStatuses:0 must be a status code from 100 to 599 (was 600)" },
        { "duplicate ipv6 spelled in full", () => With(Upstreams.WithServers(Upstreams.Server(8001, host: "::1"), Upstreams.Server(8001, host: "0:0:0:0:0:0:0:1"))), "Checkups:Upstreams:api:Servers:1 duplicates [::1]:8001 already listed at Checkups:Upstreams:api:Servers:0" },
        { "duplicate ipv4 with leading zeros", () => With(Upstreams.WithServers(Upstreams.Server(8001, host: "127.0.0.1"), Upstreams.Server(8001, host: "127.000.000.001"))), "Checkups:Upstreams:api:Servers:1 duplicates 127.0.0.1:8001 already listed at Checkups:Upstreams:api:Servers:0" },
        { "try negative", () => With(Try(Upstreams.WithServers(S()), -3)), "Checkups:Upstreams:api:Try must be at least 1 (was -3)" },
        { "try_timeout zero", () => With(TryTimeout(Upstreams.WithServers(S()), TimeSpan.Zero)), "Checkups:Upstreams:api:TryTimeout must be greater than zero; TimeSpan.MaxValue or Timeout.InfiniteTimeSpan (-00:00:00.001) mean never (was 00:00:00)" },
        { "connect timeout negative", () => With(Timeouts(Upstreams.WithServers(S()), t => t.Connect = TimeSpan.FromSeconds(-2))), "Checkups:Upstreams:api:Timeouts:Connect must be greater than zero and at most 49.17:02:47.2940000 (was -00:00:02)" },
        { "read timeout zero", () => With(Timeouts(Upstreams.WithServers(S()), t => t.Read = TimeSpan.Zero)), "Checkups:Upstreams:api:Timeouts:Read must be greater than zero and at most 49.17:02:47.2940000 (was 00:00:00)" },
        { "send timeout zero", () => With(Timeouts(Upstreams.WithServers(S()), t => t.Send = TimeSpan.Zero)), "Checkups:Upstreams:api:Timeouts:Send must be greater than zero and at most 49.17:02:47.2940000 (was 00:00:00)" },
        { "blank upstream name", () => With(Upstreams.WithServers(S()), " "), "Checkups:Upstreams:  must have a non-empty name" },
        { "heartbeat interval zero", () => Heartbeat(TimeSpan.Zero), "Checkups:HeartbeatInterval must be greater than zero and at most 49.17:02:47.2940000 (was 00:00:00)" },
 { "unknown hash algorithm", () => With(Hash(h => h.Algorithm = "rendezvous")), "Checkups:Upstreams:api:Hash:Algorithm must be one of maglev, ketama (was 'rendezvous')" },
        { "table size not prime", () => With(Hash(h => h.TableSize = 65536)), "Checkups:Upstreams:api:Hash:TableSize must be a prime number from 1009 to 12800009 (was 65536)" },
        { "table size too small", () => With(Hash(h => h.TableSize = 7)), "Checkups:Upstreams:api:Hash:TableSize must be a prime number from 1009 to 12800009 (was 7)" },
        { "balance factor below one", () => With(Hash(h => h.BalanceFactor = 0.9)), "Checkups:Upstreams:api:Hash:BalanceFactor must be a finite number of at least 1 (was 0.9)" },
        { "header_hash without header", () => With(Mode(Upstreams.WithServers(S()), "header_hash")), "Checkups:Upstreams:api:Hash:Header must name a request header in mode header_hash" },
        { "ketama ring too heavy", () => With(Hash(h => h.Algorithm = "ketama", Upstreams.Server(8001, weight: 6000), Upstreams.Server(8002, weight: 6000))), "Checkups:Upstreams:api:Servers has a total weight of 12000; the ketama ring allows at most 10000 per cluster" },
        { "fastest decay zero", () => With(Tuned(u => u.Fastest.DecayTime = TimeSpan.Zero)), "Checkups:Upstreams:api:Fastest:DecayTime must be greater than zero and at most 49.17:02:47.2940000 (was 00:00:00)" },
        { "fastest penalty negative", () => With(Tuned(u => u.Fastest.FailurePenalty = TimeSpan.FromSeconds(-1))), "Checkups:Upstreams:api:Fastest:FailurePenalty must be from 0 to 49.17:02:47.2940000 (was -00:00:01)" },
        { "panic threshold above one", () => With(Tuned(u => u.LocalFirst.PanicThreshold = 1.5)), "Checkups:Upstreams:api:LocalFirst:PanicThreshold must be between 0 and 1 (was 1.5)" },
        { "blank local zone", () => LocalZone(" "), "Checkups:LocalZone must be null or non-empty (was ' ')" },
 { "heartbeat type empty", () => With(Tuned(u => u.Heartbeat.Type = " ")), "Checkups:Upstreams:api:Heartbeat:Type must name a probe: one of http, mysql, redis, tcp (was ' ')" },
        { "sensibility zero", () => With(Tuned(u => u.Heartbeat.Sensibility = 0)), "Checkups:Upstreams:api:Heartbeat:Sensibility must be at least 1 (was 0)" },
        { "http method with space", () => With(Tuned(u => u.Heartbeat.Http.Method = "GET /")), "Checkups:Upstreams:api:Heartbeat:Http:Method must be an HTTP method such as GET or HEAD (was 'GET /')" },
        { "http path relative", () => With(Tuned(u => u.Heartbeat.Http.Path = "health")), "Checkups:Upstreams:api:Heartbeat:Http:Path must start with '/' and contain no spaces or control characters (was 'health')" },
        { "http status not a code", () => With(Tuned(u => u.Heartbeat.Http.Statuses["5xx"] = false)), "Checkups:Upstreams:api:Heartbeat:Http:Statuses:5xx must be a status code from 100 to 599" },
        { "http alive class unknown", () => With(Tuned(u => u.Heartbeat.Http.AliveStatuses.Add("7xx"))), "Checkups:Upstreams:api:Heartbeat:Http:AliveStatuses:0 must be a class such as 2xx or a code from 100 to 599 (was '7xx')" },
        { "heartbeat concurrency zero", () => Concurrency(0), "Checkups:HeartbeatConcurrency must be at least 1 (was 0)" },
        { "null server", () => With(Upstreams.WithServers(S(), null!)), "Checkups:Upstreams:api:Servers:1 must not be null" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Constructor_InvalidOptions_RejectsWithExactMessage(string because, Func<CheckupsOptions> options, string expected)
    {
        var error = Assert.Throws<CheckupsValidationException>(() => new UpstreamRegistry(options()));

        Assert.True(error.Errors.Count == 1, because + ": " + string.Join(" | ", error.Errors));
        Assert.Equal(expected, error.Errors[0]);
        Assert.Equal("Invalid Checkups configuration: " + expected, error.Message);
    }

    [Fact]
    public void Constructor_ManyProblems_ReportsEveryOneAtOnce()
    {
        var bad = Upstreams.WithServers(Upstreams.Server(0, weight: 0, maxFails: -1));
        bad.Mode = "nope";

        var error = Assert.Throws<CheckupsValidationException>(() => new UpstreamRegistry(With(bad)));

        Assert.Equal(
            new[]
            {
                "Checkups:Upstreams:api:Mode must be one of wrr, hash, url_hash, ip_hash, header_hash, fastest, local, least_requests, p2c (was 'nope')",
                "Checkups:Upstreams:api:Servers:0:Port must be between 1 and 65535 (was 0)",
                "Checkups:Upstreams:api:Servers:0:Weight must be between 1 and 1000000 (was 0)",
                "Checkups:Upstreams:api:Servers:0:MaxFails must not be negative (was -1)",
            },
            error.Errors);
        Assert.StartsWith("Invalid Checkups configuration (4 problems):", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Update_Invalid_LeavesPreviousUpstreamInForce()
    {
        using var registry = Upstreams.Registry("api", Upstreams.WithServers(S(8001)));
        long version = registry.Version;

        var error = Assert.Throws<CheckupsValidationException>(() => registry.Update("api", Upstreams.WithServers(S(8001), Upstreams.Server(99999))));

        Assert.Equal("Checkups:Upstreams:api:Servers:1:Port must be between 1 and 65535 (was 99999)", error.Errors[0]);
        Assert.Equal(version, registry.Version);
        Assert.Equal(8001, registry.SelectPeer("api").Port);
    }

    [Fact]
    public void ValidOptions_CaseInsensitiveModeAndIpv6Hosts_AreAccepted()
    {
        var upstream = Upstreams.WithServers(Upstreams.Server(8001, host: "[::1]"), Upstreams.Server(8001, host: "localhost"));
        upstream.Mode = "WRR";

        using var registry = Upstreams.Registry("api", upstream);

        Assert.Equal("wrr", registry.Get("api").Mode);
        Assert.Equal("[::1]:8001", registry.Get("api").Clusters[0].Servers[0].Key);
        Assert.Equal("::1", registry.Get("api").Clusters[0].Servers[0].Host);
    }

    private static UpstreamOptions Hash(Action<HashOptions> change, params ServerOptions[] servers)
    {
        var upstream = Upstreams.WithServers(servers.Length == 0 ? new[] { S() } : servers);
        upstream.Mode = "hash";
        change(upstream.Hash);
        return upstream;
    }

    private static UpstreamOptions Tuned(Action<UpstreamOptions> change)
    {
        var upstream = Upstreams.WithServers(S());
        change(upstream);
        return upstream;
    }

    private static CheckupsOptions Concurrency(int value)
    {
        var options = With(Upstreams.WithServers(S()));
        options.HeartbeatConcurrency = value;
        return options;
    }

    private static CheckupsOptions LocalZone(string zone)
    {
        var options = With(Upstreams.WithServers(S()));
        options.LocalZone = zone;
        return options;
    }

    private static UpstreamOptions AndLevels(UpstreamOptions upstream)
    {
        upstream.Clusters.Add(new ClusterOptions { Servers = { S(9001) } });
        return upstream;
    }

    private static UpstreamOptions Named(params (string Name, ServerOptions[] Servers)[] clusters)
    {
        var upstream = new UpstreamOptions();
        foreach (var (name, servers) in clusters)
        {
            var cluster = new ClusterOptions();
            foreach (var server in servers)
            {
                cluster.Servers.Add(server);
            }

            upstream.NamedClusters.Add(name, cluster);
        }

        return upstream;
    }

    private static UpstreamOptions Mode(UpstreamOptions upstream, string mode)
    {
        upstream.Mode = mode;
        return upstream;
    }

    private static UpstreamOptions Try(UpstreamOptions upstream, int value)
    {
        upstream.Try = value;
        return upstream;
    }

    private static UpstreamOptions TryTimeout(UpstreamOptions upstream, TimeSpan value)
    {
        upstream.TryTimeout = value;
        return upstream;
    }

    private static UpstreamOptions Timeouts(UpstreamOptions upstream, Action<TimeoutOptions> change)
    {
        change(upstream.Timeouts);
        return upstream;
    }

    private static CheckupsOptions Heartbeat(TimeSpan interval)
    {
        var options = With(Upstreams.WithServers(S()));
        options.HeartbeatInterval = interval;
        return options;
    }
}
