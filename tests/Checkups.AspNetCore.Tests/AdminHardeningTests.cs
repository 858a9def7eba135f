using System;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Checkups.AspNetCore.Tests;

/// <summary>What an attacker and a careless client try against the admin API: cross-site writes, malformed bodies, lost updates, secrets.</summary>
public sealed class AdminHardeningTests
{
    private const string Servers = """{"servers": [{"host": "127.0.0.1", "port": 8001}]}""";

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static Task<AdminHost> Anonymous() => AdminHost.StartAsync(options => options.AllowAnonymous = true);

    private static async Task<JsonElement> JsonOf(HttpResponseMessage response)
    {
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("multipart/form-data; boundary=x")]
    public async Task Write_BodyThatIsNotJson_Is415_AndNothingIsApplied(string contentType)
    {
        await using var host = await Anonymous();
        long version = host.Registry.Version;
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(Servers));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);

        using var response = await host.Client.PostAsync("/checkups/upstreams/web", content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal(version, host.Registry.Version);
        Assert.False(host.Registry.TryGet("web", out _));
    }

    [Theory]
    [InlineData("Origin", "http://127.0.0.1:1")]
    [InlineData("Sec-Fetch-Site", "cross-site")]
    [InlineData("Sec-Fetch-Site", "same-site")]
    public async Task Write_FromAnotherOrigin_Is403_ForPutAndDelete(string header, string value)
    {
        await using var host = await Anonymous();
        using (var created = await host.Client.PutAsync("/checkups/upstreams/web", Json(Servers)))
        {
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        }

        long version = host.Registry.Version;
        using var put = new HttpRequestMessage(HttpMethod.Put, "/checkups/upstreams/web") { Content = Json("""{"servers": [{"host": "127.0.0.1", "port": 9999}]}""") };
        put.Headers.TryAddWithoutValidation(header, value);
        using var delete = new HttpRequestMessage(HttpMethod.Delete, "/checkups/upstreams/web");
        delete.Headers.TryAddWithoutValidation(header, value);

        Assert.Equal(HttpStatusCode.Forbidden, (await host.Client.SendAsync(put)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await host.Client.SendAsync(delete)).StatusCode);
        Assert.Equal(version, host.Registry.Version);
        Assert.Equal(8001, host.Registry.SelectPeer("web").Port);
    }

    [Fact]
    public async Task Write_FromTheSameOrigin_IsServed()
    {
        await using var host = await Anonymous();
        using var put = new HttpRequestMessage(HttpMethod.Put, "/checkups/upstreams/web") { Content = Json(Servers) };
        put.Headers.TryAddWithoutValidation("Origin", host.Address.GetLeftPart(UriPartial.Authority));
        put.Headers.TryAddWithoutValidation("Sec-Fetch-Site", "same-origin");

        using var response = await host.Client.SendAsync(put);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Write_MalformedInput_Is400WithTheReason_AndNothingIsApplied()
    {
        await using var host = await Anonymous();
        long version = host.Registry.Version;

        using var trailing = await host.Client.PutAsync("/checkups/upstreams/web", Json(Servers + " xyz"));
        using var invalidUtf8 = new ByteArrayContent(new byte[] { (byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}' });
        invalidUtf8.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var badBytes = await host.Client.PutAsync("/checkups/upstreams/web", invalidUtf8);
        using var blankName = await host.Client.PutAsync("/checkups/upstreams/%20%20", Json(Servers));

        foreach (var (response, reason) in new[] { (trailing, "not valid JSON"), (badBytes, "not valid UTF-8"), (blankName, "name") })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains(reason, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(version, host.Registry.Version);
    }

    [Theory]
    [InlineData("a%E2%80%8Bpi", "U+200B")]
    [InlineData("api%01", "U+0001")]
    [InlineData("%E2%80%AEipa", "U+202E")]
    public async Task Write_LookAlikeName_Is400NamingTheCharacter_AndNothingIsApplied(string escapedName, string expected)
    {
        await using var host = await Anonymous();
        long version = host.Registry.Version;

        using var response = await host.Client.PutAsync("/checkups/upstreams/" + escapedName, Json(Servers));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await JsonOf(response)).GetProperty("errors");
        Assert.Contains(expected, errors.GetProperty("name")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(version, host.Registry.Version);
    }

    [Fact]
    public async Task Write_NameSpelledTwoWays_IsOneUpstream_KeptInFormC()
    {
        await using var host = await Anonymous();

        using var decomposed = await host.Client.PutAsync("/checkups/upstreams/cafe%CC%81", Json(Servers));
        using var precomposed = await host.Client.PutAsync("/checkups/upstreams/caf%C3%A9", Json("""{"servers": [{"host": "127.0.0.1", "port": 8002}]}"""));
        using var read = await host.Client.GetAsync("/checkups/upstreams/cafe%CC%81");

        Assert.Equal(HttpStatusCode.OK, decomposed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, precomposed.StatusCode);
        var upstream = await JsonOf(read);
        Assert.Equal("caf\u00e9", upstream.GetProperty("name").GetString());
        Assert.Equal(8002, upstream.GetProperty("options").GetProperty("Servers")[0].GetProperty("Port").GetInt32());
        Assert.Single(host.Registry.GetAll(), u => u.Owner == "admin");
    }

    [Fact]
    public async Task IfMatch_StaleVersionIs412_CurrentOneApplies_AndTheAnswerIsThisWritesState()
    {
        await using var host = await Anonymous();
        using var created = await host.Client.PutAsync("/checkups/upstreams/web", Json(Servers));
        var etag = created.Headers.ETag!;
        Assert.Equal($"\"{host.Registry.Get("web").Version}\"", etag.Tag);
        using (var read = await host.Client.GetAsync("/checkups/upstreams/web"))
        {
            Assert.Equal(etag.Tag, read.Headers.ETag!.Tag);
        }

        // Another admin changes the upstream after this one read it.
        using (var other = await host.Client.PutAsync("/checkups/upstreams/web", Json("""{"servers": [{"host": "127.0.0.1", "port": 8001}, {"host": "127.0.0.1", "port": 8002}]}""")))
        {
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        }

        long afterOther = host.Registry.Version;
        using var stale = new HttpRequestMessage(HttpMethod.Put, "/checkups/upstreams/web") { Content = Json("""{"servers": [{"host": "127.0.0.1", "port": 8003}]}""") };
        stale.Headers.IfMatch.Add(etag);
        using var staleDelete = new HttpRequestMessage(HttpMethod.Delete, "/checkups/upstreams/web");
        staleDelete.Headers.IfMatch.Add(etag);

        Assert.Equal(HttpStatusCode.PreconditionFailed, (await host.Client.SendAsync(stale)).StatusCode);
        Assert.Equal(HttpStatusCode.PreconditionFailed, (await host.Client.SendAsync(staleDelete)).StatusCode);
        Assert.Equal(afterOther, host.Registry.Version);
        Assert.Equal(2, host.Registry.Get("web").Clusters[0].Servers.Length);

        using var current = new HttpRequestMessage(HttpMethod.Put, "/checkups/upstreams/web") { Content = Json("""{"servers": [{"host": "127.0.0.1", "port": 8003}]}""") };
        current.Headers.IfMatch.Add(new EntityTagHeaderValue($"\"{host.Registry.Get("web").Version}\""));
        using var applied = await host.Client.SendAsync(current);

        Assert.Equal(HttpStatusCode.OK, applied.StatusCode);
        var entry = await JsonOf(applied);
        Assert.Equal(host.Registry.Get("web").Version, entry.GetProperty("version").GetInt64());
        Assert.Equal($"\"{entry.GetProperty("version").GetInt64()}\"", applied.Headers.ETag!.Tag);
        Assert.Equal(8003, entry.GetProperty("options").GetProperty("Servers")[0].GetProperty("Port").GetInt32());

        using var missing = new HttpRequestMessage(HttpMethod.Put, "/checkups/upstreams/nope") { Content = Json(Servers) };
        missing.Headers.IfMatch.Add(EntityTagHeaderValue.Any);
        Assert.Equal(HttpStatusCode.PreconditionFailed, (await host.Client.SendAsync(missing)).StatusCode);
        Assert.False(host.Registry.TryGet("nope", out _));
    }

    [Fact]
    public async Task Secrets_AreRedactedInEveryAnswer_AndSendingTheAnswerBackKeepsThem()
    {
        await using var host = await Anonymous();
        const string Body = """{"servers": [{"host": "127.0.0.1", "port": 8001}], "heartbeat": {"type": "redis", "redis": {"password": "s3cret-r"}, "mysql": {"password": "s3cret-m"}}}""";

        using var created = await host.Client.PutAsync("/checkups/upstreams/cache", Json(Body));
        string createdText = await created.Content.ReadAsStringAsync();
        using var read = await host.Client.GetAsync("/checkups/upstreams/cache");
        string readText = await read.Content.ReadAsStringAsync();
        string listed = await host.Client.GetStringAsync("/checkups/upstreams");
        string status = await host.Client.GetStringAsync("/checkups/status");

        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        foreach (string answer in new[] { createdText, readText, listed, status })
        {
            Assert.DoesNotContain("s3cret", answer, StringComparison.Ordinal);
        }

        Assert.Contains(CheckupsAdminApi.Redacted, readText, StringComparison.Ordinal);

        string options = (await JsonOf(read)).GetProperty("options").GetRawText();
        using var back = await host.Client.PutAsync("/checkups/upstreams/cache", Json(options));

        Assert.Equal(HttpStatusCode.OK, back.StatusCode);
        var kept = host.Registry.Get("cache").GetOptions().Heartbeat;
        Assert.Equal(("s3cret-r", "s3cret-m"), (kept.Redis.Password, kept.MySql.Password));
    }

    [Fact]
    public async Task Map_WithoutAuthenticationServices_FailsAtStartSayingWhatToRegister()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Services.AddCheckups(options => { });
        builder.Services.AddAuthorization();
        await using var app = builder.Build();

        var error = Assert.Throws<InvalidOperationException>(() => app.MapCheckupsAdmin());

        Assert.Contains("AddAuthentication", error.Message, StringComparison.Ordinal);
        Assert.Contains("AllowAnonymous", error.Message, StringComparison.Ordinal);
    }
}
