using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.BearerToken;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Checkups.AspNetCore.Tests;

/// <summary>The Setup snippet of docs/admin-api.md is this file's text, and it starts and serves as the docs say.</summary>
public sealed class AdminSetupDocsTests
{
    private const string Begin = "// docs/admin-api.md, Setup: begin";
    private const string End = "// docs/admin-api.md, Setup: end";

    /// <summary>The docs' Setup, line for line (the test below compares the two texts).</summary>
    private static WebApplication Setup(WebApplicationBuilder builder)
    {
        // docs/admin-api.md, Setup: begin
        builder.Services.AddCheckups(builder.Configuration.GetSection("Checkups"));
        builder.Services.AddAuthentication().AddBearerToken();     // any scheme: JWT bearer, a cookie, an API key handler…
        builder.Services.AddAuthorization(o => o.AddPolicy("checkups-admin", p => p.RequireRole("ops")));
        builder.Services.AddHealthChecks().AddCheckups();          // Unhealthy / Degraded / Healthy, per-upstream data

        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapCheckupsAdmin("/checkups", o => o.AuthorizationPolicy = "checkups-admin");
        app.MapHealthChecks("/health");
        // docs/admin-api.md, Setup: end
        return app;
    }

    private static string RepositoryFile(params string[] path)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Checkups.sln")))
        {
            directory = directory.Parent;
        }

        return File.ReadAllText(Path.Combine(new[] { directory?.FullName ?? throw new InvalidOperationException("Checkups.sln not found") }.Concat(path).ToArray()));
    }

    private static string[] Lines(string text) =>
        text.Split('\n').Select(line => line.Trim()).Where(line => line.Length > 0).ToArray();

    [Fact]
    public void Docs_SetupSnippet_IsTheTextThisTestRuns()
    {
        string docs = RepositoryFile("docs", "admin-api.md");
        int heading = docs.IndexOf("## Setup", StringComparison.Ordinal);
        int start = docs.IndexOf("```csharp", heading, StringComparison.Ordinal) + "```csharp".Length;
        string snippet = docs[start..docs.IndexOf("```", start, StringComparison.Ordinal)];

        string source = RepositoryFile("tests", "Checkups.AspNetCore.Tests", "AdminSetupDocsTests.cs");
        int from = source.IndexOf(Begin, source.IndexOf("private static WebApplication Setup", StringComparison.Ordinal), StringComparison.Ordinal) + Begin.Length;
        string code = source[from..source.IndexOf(End, from, StringComparison.Ordinal)];

        Assert.Equal(Lines(code), Lines(snippet));
    }

    [Fact]
    public async Task Docs_SetupSnippet_Starts_RefusesWithoutAToken_ServesTheOpsRole()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Checkups:HeartbeatEnabled"] = "false",
            ["Checkups:Upstreams:api:Servers:0:Host"] = "127.0.0.1",
            ["Checkups:Upstreams:api:Servers:0:Port"] = "8001",
        });
        await using var app = Setup(builder);
        await app.StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        using var anonymous = await client.GetAsync("/checkups/status");
        using var health = await client.GetAsync("/health");
        using var ops = new HttpRequestMessage(HttpMethod.Get, "/checkups/status");
        ops.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token(app, "ops"));
        using var operatorStatus = await client.SendAsync(ops);
        using var dev = new HttpRequestMessage(HttpMethod.Get, "/checkups/status");
        dev.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token(app, "dev"));
        using var developerStatus = await client.SendAsync(dev);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, operatorStatus.StatusCode);
        Assert.Contains("\"cls:api\"", await operatorStatus.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, developerStatus.StatusCode);
        await app.StopAsync();
    }

    /// <summary>A bearer token the host's own scheme accepts, for a user in <paramref name="role"/>.</summary>
    private static string Token(WebApplication app, string role)
    {
        var options = app.Services.GetRequiredService<IOptionsMonitor<BearerTokenOptions>>().Get(BearerTokenDefaults.AuthenticationScheme);
        var user = new ClaimsPrincipal(new ClaimsIdentity(new[] { new Claim(ClaimTypes.Name, "someone"), new Claim(ClaimTypes.Role, role) }, BearerTokenDefaults.AuthenticationScheme));
        var properties = new AuthenticationProperties { ExpiresUtc = DateTimeOffset.UtcNow.AddMinutes(10) };
        return options.BearerTokenProtector.Protect(new AuthenticationTicket(user, properties, BearerTokenDefaults.AuthenticationScheme));
    }
}
