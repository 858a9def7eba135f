using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using Checkups.Gateway.Admin;
using Checkups.Gateway.Demo;

namespace Checkups.Gateway;

/// <summary>
/// <c>--smoke</c>: requests through every route, the admin port's protection, and one upstream changed live (through the
/// admin API, or through Consul when Consul owns it), each answer checked against the demo backend that must give it.
/// Every request is counted; one whose answer is not the expected one is a failure.
/// </summary>
internal sealed class Smoke(Listeners listeners, string token, DemoBackends demo, ConsulKeys? consul) : IDisposable
{
    private const int PerRoute = 12;

    private readonly HttpClient _gateway = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false })
    {
        BaseAddress = listeners.GatewayAddress,
        Timeout = TimeSpan.FromSeconds(15),
    };

    private readonly HttpClient _admin = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false })
    {
        BaseAddress = listeners.AdminAddress,
        Timeout = TimeSpan.FromSeconds(15),
    };

    private readonly List<(string What, bool Held)> _checks = new();
    private int _requests;
    private int _failed;

    public async Task<bool> RunAsync()
    {
        Console.WriteLine("Smoke run:");
        var images = await ManyAsync("/thumbnails/{0}.jpg", host: "img.local", expected: Of("imgprocess"));
        Check(
            $"Host img.local -> imgprocess, by weight ({Counts(images)})",
            images.All(Of("imgprocess")) && demo.Of("imgprocess").All(b => images.Contains(b.Name)));

        string? hostFirst = await ThroughGatewayAsync("/api/items", host: "img.local", expected: Of("imgprocess"));
        Check($"Host img.local wins over the /api/ path ({hostFirst})", hostFirst is not null);

        var api = await ManyAsync("/api/items/{0}", expected: Of("api", level: 1));
        Check(
            $"/api/ -> api, level 1 only ({Counts(api)})",
            api.All(Of("api", level: 1)) && demo.Of("api", level: 1).All(b => api.Contains(b.Name)));

        var sticky = new List<string>();
        foreach (string user in new[] { "alice", "bob", "carol", "dave" })
        {
            var answers = new List<string?>();
            for (int i = 0; i < 4; i++)
            {
                answers.Add(await ThroughGatewayAsync($"/sessions/cart?i={i}", user: user, expected: Of("sessions")));
            }

            sticky.Add(answers.Distinct().Count() == 1 && answers[0] is { } one ? $"{user}={one}" : $"{user}=({string.Join(',', answers)})");
        }

        Check($"/sessions/ hashed by X-User, each user on one server ({string.Join(", ", sticky)})", sticky.All(s => !s.Contains('(', StringComparison.Ordinal)));

        Check("the admin API is not served on the gateway port (404)", Expect(await StatusAsync(_gateway, "/checkups/status", token) == HttpStatusCode.NotFound));
        Check("the proxy is not served on the admin port (404)", Expect(await StatusAsync(_admin, "/api/items", null) == HttpStatusCode.NotFound));
        Check("no token: 401", Expect(await StatusAsync(_admin, "/checkups/upstreams/api", null) == HttpStatusCode.Unauthorized));
        Check("a wrong token: 401", Expect(await StatusAsync(_admin, "/checkups/upstreams/api", "not-the-token") == HttpStatusCode.Unauthorized));

        using var read = await AdminAsync(HttpMethod.Get, "/checkups/upstreams/api");
        string owner = "?";
        if (read?.StatusCode == HttpStatusCode.OK)
        {
            using var entry = JsonDocument.Parse(await read.Content.ReadAsStringAsync());
            owner = entry.RootElement.GetProperty("owner").GetString() ?? "?";
        }

        string expectedOwner = consul is null ? "admin" : "consul:api";
        Check($"GET /checkups/upstreams/api with the token: owner {owner}", Expect(owner == expectedOwner));

        string servers = $$"""{"servers": [{"host": "127.0.0.1", "port": {{demo.Spare.Port}}, "max_fails": 2, "fail_timeout": 10}]}""";
        using (var put = await AdminAsync(HttpMethod.Put, "/checkups/upstreams/api", servers, read?.Headers.ETag))
        {
            if (consul is null)
            {
                Check("PUT a new server list for api (the spare backend) through the admin API: 200", Expect(put?.StatusCode == HttpStatusCode.OK));
            }
            else
            {
                // Consul owns api: the admin API refuses, and the change goes through Consul, as an operator's would.
                Check("PUT through the admin API is refused: Consul owns api (409)", Expect(put?.StatusCode == HttpStatusCode.Conflict));
                await ChangeInConsulAsync(consul);
            }
        }

        var moved = await ManyAsync("/api/items/{0}", expected: name => name == demo.Spare.Name);
        Check($"/api/ now goes to the spare backend ({Counts(moved)})", moved.Count == PerRoute && moved.All(n => n == demo.Spare.Name));

        using var status = await AdminAsync(HttpMethod.Get, "/checkups/status");
        string json = status?.StatusCode == HttpStatusCode.OK ? await status.Content.ReadAsStringAsync() : string.Empty;
        Check(
            "GET /checkups/status lists cls:imgprocess, cls:sessions and cls:api on the spare backend",
            Expect(json.Contains("\"cls:imgprocess\"", StringComparison.Ordinal) && json.Contains("\"cls:sessions\"", StringComparison.Ordinal)
                && json.Contains("\"cls:api\"", StringComparison.Ordinal) && json.Contains(demo.Spare.Key, StringComparison.Ordinal)));

        int held = _checks.Count(c => c.Held);
        bool ok = _failed == 0 && held == _checks.Count;
        Console.WriteLine(ok
            ? $"Gateway finished: {_requests} requests, 0 failed; {held} checks held."
            : $"Gateway finished: {_requests} requests, {_failed} failed; {held} of {_checks.Count} checks held.");
        return ok;
    }

    public void Dispose()
    {
        _gateway.Dispose();
        _admin.Dispose();
    }

    private async Task ChangeInConsulAsync(ConsulKeys keys)
    {
        await keys.PutAsync("api", "127.0.0.1", demo.Spare.Port, """{"weight": 1, "max_fails": 2, "fail_timeout": 10}""");
        foreach (var backend in demo.Of("api"))
        {
            await keys.DeleteAsync("api", "127.0.0.1", backend.Port);
        }

        // The watch's blocking query returns at the change; bounded by a count and a deadline that a busy machine cannot reach early.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        bool applied = false;
        for (int i = 0; i < 600 && !applied && DateTime.UtcNow < deadline; i++)
        {
            using var answer = await AdminAsync(HttpMethod.Get, "/checkups/upstreams/api", expectSuccess: false);
            if (answer?.StatusCode == HttpStatusCode.OK)
            {
                using var entry = JsonDocument.Parse(await answer.Content.ReadAsStringAsync());
                var ports = new List<int>();
                Ports(entry.RootElement, ports);
                applied = ports.Count == 1 && ports[0] == demo.Spare.Port;
            }

            if (!applied)
            {
                await Task.Delay(100);
            }
        }

        Check("the same change through Consul (upstreams/api/<spare> put, the others deleted) is applied", Expect(applied));
    }

    /// <summary>Sends <see cref="PerRoute"/> requests; returns the backends that answered, in order.</summary>
    private async Task<List<string>> ManyAsync(string path, string? host = null, Func<string, bool>? expected = null)
    {
        var answered = new List<string>();
        for (int i = 0; i < PerRoute; i++)
        {
            if (await ThroughGatewayAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, path, i), host, expected: expected) is { } name)
            {
                answered.Add(name);
            }
        }

        return answered;
    }

    /// <summary>One request through the gateway; the name of the backend that answered, or null (counted failed) when the answer is not a 200 from an expected backend.</summary>
    private async Task<string?> ThroughGatewayAsync(string path, string? host = null, string? user = null, Func<string, bool>? expected = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        if (host is not null)
        {
            request.Headers.Host = host;
        }

        if (user is not null)
        {
            request.Headers.Add("X-User", user);
        }

        _requests++;
        try
        {
            using var response = await _gateway.SendAsync(request);
            string body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.OK && (expected is null || expected(body)))
            {
                return body;
            }

            Console.WriteLine($"    {path}{(host is null ? string.Empty : " (Host " + host + ")")}: {(int)response.StatusCode} {body}");
        }
        catch (HttpRequestException e)
        {
            Console.WriteLine($"    {path}: {e.Message}");
        }
        catch (TaskCanceledException e)
        {
            Console.WriteLine($"    {path}: {e.Message}");
        }

        _failed++;
        return null;
    }

    private async Task<HttpStatusCode?> StatusAsync(HttpClient client, string path, string? bearer)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        _requests++;
        try
        {
            using var response = await client.SendAsync(request);
            return response.StatusCode;
        }
        catch (HttpRequestException e)
        {
            Console.WriteLine($"    {path}: {e.Message}");
            return null;
        }
    }

    /// <summary>An admin API request with the token; null when it could not be sent. A non-2xx answer prints its body.</summary>
    private async Task<HttpResponseMessage?> AdminAsync(HttpMethod method, string path, string? json = null, EntityTagHeaderValue? ifMatch = null, bool expectSuccess = true)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        if (ifMatch is not null)
        {
            request.Headers.IfMatch.Add(ifMatch);
        }

        _requests++;
        try
        {
            var response = await _admin.SendAsync(request);
            if (expectSuccess && !response.IsSuccessStatusCode)
            {
                Console.WriteLine($"    {method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }

            return response;
        }
        catch (HttpRequestException e)
        {
            Console.WriteLine($"    {method} {path}: {e.Message}");
            return null;
        }
    }

    /// <summary>Counts a request whose answer was not the expected one (the check's own request) as failed.</summary>
    private bool Expect(bool held)
    {
        if (!held)
        {
            _failed++;
        }

        return held;
    }

    /// <summary>Records a check; one can fail with every request answered as expected (a backend that got nothing), which fails the run too.</summary>
    private void Check(string what, bool held)
    {
        _checks.Add((what, held));
        Console.WriteLine($"  {(held ? "ok  " : "FAIL")} {what}");
    }

    /// <summary>Collects every <c>port</c> value (any case) of an upstream's JSON: the servers of all its levels.</summary>
    private static void Ports(JsonElement element, List<int> ports)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                if (property.NameEquals("port") || property.NameEquals("Port"))
                {
                    if (property.Value.TryGetInt32(out int port))
                    {
                        ports.Add(port);
                    }
                }
                else
                {
                    Ports(property.Value, ports);
                }
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                Ports(item, ports);
            }
        }
    }

    private Func<string, bool> Of(string upstream, int? level = null) =>
        name => demo.Of(upstream, level).Any(b => b.Name == name);

    private static string Counts(List<string> names) =>
        names.Count == 0 ? "none answered" : string.Join(", ", names.GroupBy(n => n).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}"));
}
