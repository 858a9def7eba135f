using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Registry;

namespace Checkups.AspNetCore.Tests;

/// <summary>The admin API on a real Kestrel host: round trips visible in picks, and every error path.</summary>
public sealed class AdminApiTests
{
    private static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    private static Task<AdminHost> Anonymous(Action<CheckupsAdminOptions>? more = null) =>
        AdminHost.StartAsync(options =>
        {
            options.AllowAnonymous = true;
            more?.Invoke(options);
        });

    private static async Task<JsonElement> JsonOf(HttpResponseMessage response)
    {
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }

    private static HashSet<int> Picked(UpstreamRegistry registry, string upstream) =>
        Enumerable.Range(0, 12).Select(_ => registry.SelectPeer(upstream).Port).ToHashSet();

    [Fact]
    public async Task Crud_RoundTrip_IsVisibleInPicks()
    {
        await using var host = await Anonymous();

        using (var created = await host.Client.PutAsync("/checkups/upstreams/web", Body("""
            {"mode": "wrr", "try": 3, "servers": [{"host": "127.0.0.1", "port": 8001, "weight": 2}, {"host": "127.0.0.1", "port": 8002}]}
            """)))
        {
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
            var entry = await JsonOf(created);
            Assert.Equal(("web", "admin"), (entry.GetProperty("name").GetString(), entry.GetProperty("owner").GetString()));
            Assert.Equal(3, entry.GetProperty("options").GetProperty("Try").GetInt32());
        }

        Assert.Equal(new HashSet<int> { 8001, 8002 }, Picked(host.Registry, "web"));
        Assert.Equal(8, Enumerable.Range(0, 12).Count(_ => host.Registry.SelectPeer("web").Port == 8001));

        // Slardar's body: only the servers change, the rest of the upstream stays.
        using (var servers = await host.Client.PostAsync("/checkups/upstreams/web", Body("""{"servers": [{"host": "127.0.0.1", "port": 8003}]}""")))
        {
            Assert.Equal(HttpStatusCode.OK, servers.StatusCode);
        }

        Assert.Equal(new HashSet<int> { 8003 }, Picked(host.Registry, "web"));
        Assert.Equal(3, host.Registry.Get("web").Try);

        var listed = await JsonOf(await host.Client.GetAsync("/checkups/upstreams"));
        Assert.Equal(
            new[] { ("configured", "configuration"), ("web", "admin") },
            listed.GetProperty("upstreams").EnumerateArray().Select(u => (u.GetProperty("name").GetString()!, u.GetProperty("owner").GetString()!)).OrderBy(u => u.Item1));

        // What GET returns can be sent back as it is.
        string options = (await JsonOf(await host.Client.GetAsync("/checkups/upstreams/web"))).GetProperty("options").GetRawText();
        using (var again = await host.Client.PutAsync("/checkups/upstreams/copy", Body(options)))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }

        Assert.Equal(host.Registry.Get("web").GetOptions().ToJson(), host.Registry.Get("copy").GetOptions().ToJson());

        var status = await JsonOf(await host.Client.GetAsync("/checkups/status"));
        Assert.Equal("web:127.0.0.1:8003", status.GetProperty("cls:web")[0][0].GetProperty("server").GetString());

        using (var deleted = await host.Client.DeleteAsync("/checkups/upstreams/web"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        Assert.Throws<UpstreamNotFoundException>(() => host.Registry.SelectPeer("web"));
        using var gone = await host.Client.GetAsync("/checkups/upstreams/web");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Theory]
    [InlineData("""{"servers": [{"host": "127.0.0.1", "port": 8001}""", "$", "not valid JSON")]
    [InlineData("""{"servers": [{"host": "127.0.0.1", "port": "eighty"}]}""", "Servers:0:Port", "must be a whole number")]
    [InlineData("""{"servers": [{"host": "127.0.0.1", "port": 70000}]}""", "Servers:0:Port", "between 1 and 65535")]
    [InlineData("""{"mode": "fastest-ish", "servers": [{"host": "127.0.0.1", "port": 8001}]}""", "Mode", "must be one of")]
    [InlineData("""{"servers": [{"host": "127.0.0.1", "port": 8001, "max_fail": 1}]}""", "Servers:0:max_fail", "did you mean MaxFails?")]
    [InlineData("""["127.0.0.1:8001"]""", "$", "must be a JSON object")]
    public async Task InvalidBody_Is400NamingTheField_AndNothingIsApplied(string body, string field, string reason)
    {
        await using var host = await Anonymous();
        await host.Client.PutAsync("/checkups/upstreams/web", Body("""{"servers": [{"host": "127.0.0.1", "port": 8001}]}"""));
        long version = host.Registry.Version;

        using var response = await host.Client.PutAsync("/checkups/upstreams/web", Body(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var problem = await JsonOf(response);
        var messages = problem.GetProperty("errors").GetProperty(field).EnumerateArray().Select(m => m.GetString()!).ToList();
        Assert.Contains(messages, m => m.Contains(reason, StringComparison.Ordinal));
        Assert.Equal(version, host.Registry.Version);
        Assert.Equal(8001, host.Registry.SelectPeer("web").Port);
    }

    [Fact]
    public async Task UpstreamOfAnotherSource_Is409NamingTheOwner()
    {
        await using var host = await Anonymous();
        long version = host.Registry.Version;

        using var put = await host.Client.PutAsync("/checkups/upstreams/configured", Body("""{"servers": [{"host": "127.0.0.1", "port": 8001}]}"""));
        using var delete = await host.Client.DeleteAsync("/checkups/upstreams/configured");

        Assert.Equal((HttpStatusCode.Conflict, HttpStatusCode.Conflict), (put.StatusCode, delete.StatusCode));
        var problem = await JsonOf(put);
        Assert.Equal("configuration", problem.GetProperty("owner").GetString());
        Assert.Contains("owned by source 'configuration'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(version, host.Registry.Version);
        Assert.Equal(7001, host.Registry.SelectPeer("configured").Port);
    }

    [Fact]
    public async Task UnknownUpstream_Is404()
    {
        await using var host = await Anonymous();

        using var get = await host.Client.GetAsync("/checkups/upstreams/nowhere");
        using var delete = await host.Client.DeleteAsync("/checkups/upstreams/nowhere");

        Assert.Equal((HttpStatusCode.NotFound, HttpStatusCode.NotFound), (get.StatusCode, delete.StatusCode));
        Assert.Contains("nowhere", (await JsonOf(get)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BodyOverTheCap_Is413_WithOrWithoutALength()
    {
        await using var host = await Anonymous(options => options.MaxBodyBytes = 256);
        string large = """{"servers": [""" + string.Join(",", Enumerable.Range(1, 20).Select(i => $$"""{"host": "127.0.0.1", "port": {{8000 + i}}}""")) + "]}";

        using var withLength = await host.Client.PutAsync("/checkups/upstreams/big", Body(large));
        using var chunked = await host.Client.PutAsync("/checkups/upstreams/big", new PushStreamContent(large));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, withLength.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, chunked.StatusCode);
        Assert.False(host.Registry.TryGet("big", out _));
    }

    [Fact]
    public async Task ParallelPutsAndPicks_NeverSeeAMixOfTwoBodies()
    {
        await using var host = await Anonymous();
        var first = new HashSet<int> { 8001, 8002, 8003 };
        var second = new HashSet<int> { 9001, 9002, 9003 };
        string Of(HashSet<int> ports) => """{"servers": [""" + string.Join(",", ports.Select(p => $$"""{"host": "127.0.0.1", "port": {{p}}}""")) + "]}";
        await host.Client.PutAsync("/checkups/upstreams/torn", Body(Of(first)));
        using var stop = new CancellationTokenSource();
        int torn = 0;
        long checks = 0;

        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            // At least one check each, however late the reader starts; bounded by a count as well as by the writers.
            for (int i = 0; i < 100_000_000 && (i == 0 || !stop.IsCancellationRequested); i++)
            {
                var ports = host.Registry.Get("torn").Clusters[0].Servers.Select(s => s.Port).ToHashSet();
                int picked = host.Registry.SelectPeer("torn").Port;
                if (!(ports.SetEquals(first) || ports.SetEquals(second)) || !(first.Contains(picked) || second.Contains(picked)))
                {
                    Interlocked.Increment(ref torn);
                }

                Interlocked.Increment(ref checks);
            }
        })).ToArray();
        var writers = Enumerable.Range(0, 2).Select(w => Task.Run(async () =>
        {
            for (int i = 0; i < 50; i++)
            {
                using var response = await host.Client.PutAsync("/checkups/upstreams/torn", Body(Of((i + w) % 2 == 0 ? first : second)));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        })).ToArray();

        await Task.WhenAll(writers);
        await stop.CancelAsync();
        await Task.WhenAll(readers);

        Assert.Equal(0, torn);
        Assert.True(Interlocked.Read(ref checks) > 0);
        Assert.True(host.Registry.Get("torn").Version > 1);
    }

    /// <summary>Content without a length: sent chunked.</summary>
    private sealed class PushStreamContent : HttpContent
    {
        private readonly string _text;

        public PushStreamContent(string text)
        {
            _text = text;
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        }

        protected override Task SerializeToStreamAsync(System.IO.Stream stream, TransportContext? context) =>
            stream.WriteAsync(Encoding.UTF8.GetBytes(_text)).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }
}
