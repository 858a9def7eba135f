using System;
using System.Net;
using System.Net.Http;
using System.Text.Json;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Registry;
using Checkups.TestUtils;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;

namespace Checkups.AspNetCore.Tests;

public sealed class SecurityAndHealthTests
{
    private static HttpRequestMessage Get(string path, string? user = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (user is not null)
        {
            request.Headers.Add(AdminHost.UserHeader, user);
        }

        return request;
    }

    [Fact]
    public async Task ByDefault_AnonymousIsRefused_AndAnAuthenticatedUserServed()
    {
        await using var host = await AdminHost.StartAsync();

        using var anonymous = await host.Client.SendAsync(Get("/checkups/status"));
        using var page = await host.Client.SendAsync(Get("/checkups/"));
        using var delete = await host.Client.DeleteAsync("/checkups/upstreams/configured");
        using var user = await host.Client.SendAsync(Get("/checkups/status", "alice"));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, page.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, delete.StatusCode);
        Assert.Equal(HttpStatusCode.OK, user.StatusCode);
        Assert.Equal(7001, host.Registry.SelectPeer("configured").Port);
    }

    [Fact]
    public async Task NamedPolicy_RefusesAUserWithoutIt()
    {
        await using var host = await AdminHost.StartAsync(options => options.AuthorizationPolicy = "operators");

        using var alice = await host.Client.SendAsync(Get("/checkups/upstreams", "alice"));
        using var operatorUser = await host.Client.SendAsync(Get("/checkups/upstreams", "opal"));

        Assert.Equal(HttpStatusCode.Forbidden, alice.StatusCode);
        Assert.Equal(HttpStatusCode.OK, operatorUser.StatusCode);
    }

    [Fact]
    public async Task StatusPage_IsSelfContainedHtmlReadingTheGroupsStatus()
    {
        await using var host = await AdminHost.StartAsync(options => options.AllowAnonymous = true);

        using var page = await host.Client.GetAsync("/checkups/");
        string html = await page.Content.ReadAsStringAsync();

        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        Assert.Contains("\"/checkups/status\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("__STATUS_URL__", html, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HealthCheck_HealthyDegradedUnhealthy_WithPerUpstreamData()
    {
        var time = new FakeTimeProvider();
        var options = new CheckupsOptions();
        var upstream = new UpstreamOptions();
        upstream.Servers.Add(new ServerOptions { Host = "127.0.0.1", Port = 8001, MaxFails = 1 });
        upstream.Servers.Add(new ServerOptions { Host = "127.0.0.1", Port = 8002, MaxFails = 1 });
        options.Upstreams["api"] = upstream;
        using var registry = new UpstreamRegistry(options, time);
        var check = new CheckupsHealthCheck(registry);
        var context = new HealthCheckContext { Registration = new HealthCheckRegistration("checkups", check, HealthStatus.Unhealthy, null) };

        var healthy = await check.CheckHealthAsync(context);
        registry.ReportFailure("api", "127.0.0.1", 8001);
        var degraded = await check.CheckHealthAsync(context);

        // Passive failures never take the last selectable server out (as nginx); servers set down do.
        var off = new UpstreamOptions();
        off.Servers.Add(new ServerOptions { Host = "127.0.0.1", Port = 8001, Down = true });
        off.Servers.Add(new ServerOptions { Host = "127.0.0.1", Port = 8002, Down = true });
        registry.Update("api", off);
        var unhealthy = await check.CheckHealthAsync(context);

        Assert.Equal((HealthStatus.Healthy, HealthStatus.Degraded, HealthStatus.Unhealthy), (healthy.Status, degraded.Status, unhealthy.Status));
        Assert.Equal("1 of 2 servers selectable", degraded.Data["api"]);
        Assert.Contains("api", unhealthy.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HealthEndpoint_ReportsUnhealthyWhenAnUpstreamHasNoSelectableServer()
    {
        await using var host = await AdminHost.StartAsync(options => options.AllowAnonymous = true, checkups: options =>
        {
            var down = new UpstreamOptions();
            down.Servers.Add(new ServerOptions { Host = "127.0.0.1", Port = 8001, Down = true });
            options.Upstreams["off"] = down;
        });

        using var response = await host.Client.GetAsync("/health");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("Unhealthy", await response.Content.ReadAsStringAsync());
    }
}
