using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Demo;
using Checkups.Registry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Spectre.Console;

// The Checkups demo: three HTTP backends on loopback, a Checkups host with the admin API and status page, HttpClient
// traffic balanced by Checkups.Http, and a script: a backend stops, a weight changes through the admin API (or Consul),
// the backend returns. It checks itself and exits (0 when every promise held) within about 40 s.
//   --interactive   keep running after the script, for a browser on the status page (Ctrl+C ends it)
//   --consul URL    read the upstream from a Consul agent (KV per server) instead of creating it through the admin API
bool interactive = args.Contains("--interactive");
int consulAt = Array.IndexOf(args, "--consul");
string? consul = consulAt >= 0 && consulAt + 1 < args.Length ? args[consulAt + 1].TrimEnd('/') : null;
if (consulAt >= 0 && consul is null)
{
    Console.Error.WriteLine("--consul needs the agent's address, e.g. --consul http://127.0.0.1:8500");
    return 2;
}

const string Upstream = "demo";
var backends = new List<Backend> { await Backend.StartAsync("alpha"), await Backend.StartAsync("bravo"), await Backend.StartAsync("charlie") };
int[] weights = { 1, 2, 3 };
using var admin = new HttpClient();

if (consul is not null)
{
    // The upstream lives in Consul, one key per server (nginx-upsync-module's format); the watch follows it.
    await admin.DeleteAsync($"{consul}/v1/kv/upstreams/{Upstream}/?recurse");
    for (int i = 0; i < backends.Count; i++)
    {
        await PutConsulAsync(backends[i], weights[i]);
    }
}

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
var checkups = builder.Services.AddCheckups(options => options.HeartbeatInterval = TimeSpan.FromMilliseconds(300));
if (consul is not null)
{
    checkups.AddConsul(options =>
    {
        options.Upstream = Upstream;
        options.Addresses.Add(consul);
        options.Wait = TimeSpan.FromSeconds(30);
        options.Template.Try = 3;
        options.Template.Timeouts.Connect = TimeSpan.FromSeconds(1);
        options.Template.Heartbeat.Type = "http";
        options.Template.Heartbeat.Http.Path = "/health";
    });
}

builder.Services.AddHttpClient(Upstream, client => client.BaseAddress = new Uri($"http://{Upstream}/"))
    .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(1) })
    .AddCheckups(Upstream);
builder.Services.AddHealthChecks().AddCheckups();
await using var app = builder.Build();

// Anonymous only because this host listens on 127.0.0.1 alone; a real host names an authorization policy.
app.MapCheckupsAdmin("/checkups", options => options.AllowAnonymous = true);
app.MapHealthChecks("/health");
await app.StartAsync();
var address = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single());
var registry = app.Services.GetRequiredService<UpstreamRegistry>();

if (consul is null)
{
    // The upstream is created through the admin API, so the API owns it and may change it later.
    using var created = await admin.PutAsync(new Uri(address, $"/checkups/upstreams/{Upstream}"), Json(UpstreamJson(weights, full: true)));
    if (!created.IsSuccessStatusCode)
    {
        Console.Error.WriteLine($"creating the upstream failed: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        return 1;
    }
}

bool live = !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
Console.WriteLine($"Checkups demo: status page http://127.0.0.1:{address.Port}/checkups/  (status JSON /checkups/status, health /health)");
Console.WriteLine(consul is null ? "Upstream 'demo' created through the admin API." : $"Upstream 'demo' read from Consul at {consul} (keys upstreams/demo/<host:port>).");

var traffic = new Traffic(app.Services.GetRequiredService<IHttpClientFactory>().CreateClient(Upstream));
var dashboard = new Dashboard(backends, traffic, Upstream);
using var stopTraffic = new CancellationTokenSource();
var load = traffic.RunAsync(3, stopTraffic.Token);
string phase = "starting";
var results = new Dictionary<string, IReadOnlyDictionary<string, int>>();

async Task ShowAsync(TimeSpan length, Action<Spectre.Console.Rendering.IRenderable>? update)
{
    // One frame a second; bounded by the phase's length.
    int frames = (int)Math.Ceiling(length.TotalSeconds);
    for (int i = 0; i < frames; i++)
    {
        await Task.Delay(TimeSpan.FromSeconds(1));
        if (update is not null)
        {
            update(dashboard.Render(registry.GetStatus(), phase));
        }
        else
        {
            Console.WriteLine(dashboard.Line(registry.GetStatus(), phase));
        }
    }
}

async Task ScriptAsync(Action<Spectre.Console.Rendering.IRenderable>? update)
{
    async Task PhaseAsync(string name, TimeSpan length, Func<Task>? change = null)
    {
        phase = name;
        traffic.NewPhase();
        if (change is not null)
        {
            await change();
        }

        await ShowAsync(length, update);
        results[name] = new Dictionary<string, int>(traffic.Phase);
    }

    await PhaseAsync("1/4 all three backends up, weights 1:2:3 (smooth weighted round robin)", TimeSpan.FromSeconds(6));
    await PhaseAsync("2/4 bravo stopped: passive and active checks route around it, retries hide its failures", TimeSpan.FromSeconds(7), () => backends[1].StopAsync());
    await PhaseAsync(
        consul is null ? "3/4 alpha's weight 1 -> 6 through the admin API (POST /checkups/upstreams/demo)" : "3/4 alpha's weight 1 -> 6 through Consul (PUT upstreams/demo/<alpha>)",
        TimeSpan.FromSeconds(6),
        async () =>
        {
            weights[0] = 6;
            if (consul is null)
            {
                using var changed = await admin.PostAsync(new Uri(address, $"/checkups/upstreams/{Upstream}"), Json(UpstreamJson(weights, full: false)));
                changed.EnsureSuccessStatusCode();
            }
            else
            {
                await PutConsulAsync(backends[0], weights[0]);
            }
        });
    await PhaseAsync("4/4 bravo back on its port: the heartbeat brings it back", TimeSpan.FromSeconds(7), () => backends[1].RestartAsync());
    if (interactive)
    {
        phase = "interactive: the script is over, traffic goes on; Ctrl+C ends the demo";
        using var ended = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            ended.Cancel();
        };
        while (!ended.IsCancellationRequested)
        {
            traffic.NewPhase();
            await ShowAsync(TimeSpan.FromSeconds(5), update);
        }
    }
}

if (live)
{
    await AnsiConsole.Live(new Markup("starting…")).StartAsync(async context => await ScriptAsync(view =>
    {
        context.UpdateTarget(view);
        context.Refresh();
    }));
}
else
{
    await ScriptAsync(null);
}

await stopTraffic.CancelAsync();
await load;
Console.WriteLine();
Console.WriteLine("Status at the end (GET /checkups/status, lua-resty-checkups' get_status shape):");
Console.WriteLine(registry.GetStatus().ToJson(indented: true));

// The demo checks its own promises, so a regression shows as a non-zero exit.
int Count(string phaseName, string backend) => results.First(r => r.Key.StartsWith(phaseName, StringComparison.Ordinal)).Value.GetValueOrDefault(backend);
var checks = new (string Promise, bool Held)[]
{
    ("no request failed", traffic.Failed == 0),
    ("phase 1 follows the weights (alpha < bravo < charlie)", Count("1/4", "alpha") < Count("1/4", "bravo") && Count("1/4", "bravo") < Count("1/4", "charlie")),
    ("phase 3: stopped bravo gets nothing, and alpha (weight 6) more than charlie (3)", Count("3/4", "bravo") == 0 && Count("3/4", "alpha") > Count("3/4", "charlie")),
    ("phase 4: bravo serves again", Count("4/4", "bravo") > 0),
};
foreach (var (promise, held) in checks)
{
    Console.WriteLine($"  {(held ? "ok  " : "FAIL")} {promise}");
}

if (consul is not null)
{
    await admin.DeleteAsync($"{consul}/v1/kv/upstreams/{Upstream}/?recurse");
}

await app.StopAsync();
foreach (var backend in backends)
{
    await backend.DisposeAsync();
}

bool ok = checks.All(c => c.Held);
Console.WriteLine(ok
    ? $"Demo finished: {traffic.Total} requests, none failed; traffic followed the weights, routed around the stopped backend, took the new weight at once and welcomed the backend back."
    : $"Demo FAILED ({traffic.Failed} failed requests{(traffic.LastError is { } error ? ", last: " + error : string.Empty)}).");
return ok ? 0 : 1;

string UpstreamJson(int[] w, bool full)
{
    var servers = string.Join(", ", backends.Select((b, i) => $$"""{"host": "127.0.0.1", "port": {{b.Port}}, "weight": {{w[i]}}, "max_fails": 1, "fail_timeout": 3}"""));
    return full
        ? $$$"""{"try": 3, "timeouts": {"connect": 1}, "heartbeat": {"type": "http", "http": {"path": "/health"}}, "servers": [{{{servers}}}]}"""
        : $$"""{"servers": [{{servers}}]}""";
}

static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

async Task PutConsulAsync(Backend backend, int weight)
{
    using var put = await admin.PutAsync(
        $"{consul}/v1/kv/upstreams/{Upstream}/127.0.0.1:{backend.Port}",
        new StringContent($$"""{"weight": {{weight}}, "max_fails": 1, "fail_timeout": 3}""", Encoding.UTF8));
    put.EnsureSuccessStatusCode();
}
