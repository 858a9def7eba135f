using System;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Threading.Tasks;
using Checkups.AspNetCore;
using Checkups.Configuration;
using Checkups.Registry;
using Checkups.TestUtils;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Checkups.AspNetCore.Tests;

/// <summary>
/// A real Kestrel host on 127.0.0.1 (free port) with Checkups, the admin API and a health check endpoint. The
/// configuration owns the upstream <c>configured</c>. Authentication is a test scheme: a request with an
/// <c>X-Test-User</c> header is that user, any other is anonymous.
/// </summary>
internal sealed class AdminHost : IAsyncDisposable
{
    public const string UserHeader = "X-Test-User";

    private readonly WebApplication _app;

    private AdminHost(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
        Client = new HttpClient { BaseAddress = address };
        Registry = app.Services.GetRequiredService<UpstreamRegistry>();
    }

    public Uri Address { get; }

    public HttpClient Client { get; }

    public UpstreamRegistry Registry { get; }

    public static async Task<AdminHost> StartAsync(Action<CheckupsAdminOptions>? admin = null, Action<CheckupsOptions>? checkups = null, Action<WebApplication>? map = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var time = new FakeTimeProvider();
        builder.Services.AddSingleton<TimeProvider>(time);
        builder.Services.AddCheckups(options =>
        {
            var configured = new UpstreamOptions();
            configured.Servers.Add(new ServerOptions { Host = "127.0.0.1", Port = 7001 });
            options.Upstreams["configured"] = configured;
            checkups?.Invoke(options);
        });
        builder.Services.AddAuthentication("Test").AddScheme<AuthenticationSchemeOptions, HeaderAuthentication>("Test", null);
        builder.Services.AddAuthorization(options => options.AddPolicy("operators", policy => policy.RequireClaim(ClaimTypes.Role, "operator")));
        builder.Services.AddHealthChecks().AddCheckups();
        builder.Services.AddRouting();
        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapCheckupsAdmin("/checkups", admin);
        app.MapHealthChecks("/health");
        map?.Invoke(app);
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        var host = new AdminHost(app, address);
        host.Clock = time;
        return host;
    }

    /// <summary>Gets the registry's clock (the host's TimeProvider).</summary>
    public FakeTimeProvider Clock { get; private set; } = null!;

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>Authenticates a request that names its user in <see cref="UserHeader"/>; the role <c>operator</c> when the name starts with "op".</summary>
    private sealed class HeaderAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (!Request.Headers.TryGetValue(UserHeader, out var user) || string.IsNullOrEmpty(user))
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var claims = new[] { new Claim(ClaimTypes.Name, user.ToString()) }
                .Concat(user.ToString().StartsWith("op", StringComparison.Ordinal) ? new[] { new Claim(ClaimTypes.Role, "operator") } : Array.Empty<Claim>());
            var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, "Test"));
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, "Test")));
        }
    }
}
