using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Demo;
using Checkups.Registry;
using Checkups.Status;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// Three real HTTP backends on loopback, weighted 1 : 2 : 3.
var backends = new[] { await Backend.StartAsync("alpha"), await Backend.StartAsync("bravo"), await Backend.StartAsync("charlie") };
int[] weights = { 1, 2, 3 };
using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
builder.Services.AddCheckups(options =>
{
    options.HeartbeatInterval = TimeSpan.FromMilliseconds(300);
    var upstream = new UpstreamOptions();
    upstream.Heartbeat.Type = ProbeTypes.Http;   // active check: GET /health every 300 ms
    upstream.Heartbeat.Http.Path = "/health";
    upstream.Timeouts.Connect = TimeSpan.FromSeconds(1);
    upstream.Try = 3;                              // a failed request is retried on up to two other servers
    for (int i = 0; i < backends.Length; i++)
    {
        upstream.Servers.Add(new ServerOptions
        {
            Host = "127.0.0.1",
            Port = backends[i].Port,
            Weight = weights[i],
            MaxFails = 1,                           // passive check: one failure in the window marks a server err…
            FailTimeout = TimeSpan.FromSeconds(10), // …for ten seconds
        });
    }

    options.Upstreams["demo"] = upstream;
});

// An HttpClient that balances over the upstream: requests to http://demo/ go to the server its mode picks, and a failed
// attempt (connection refused, 502/503/504, a timeout) is retried on another server (Checkups.Http).
builder.Services.AddHttpClient("demo", client => client.BaseAddress = new Uri("http://demo/"))
    .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(2) })
    .AddCheckups("demo");
using var host = builder.Build();
await host.StartAsync(timeout.Token);   // the first heartbeat round runs before this returns
var registry = host.Services.GetRequiredService<UpstreamRegistry>();
var http = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("demo");

async Task<Dictionary<string, int>> SendAsync(int requests)
{
    var counts = backends.ToDictionary(b => b.Name, _ => 0);
    for (int i = 0; i < requests; i++)
    {
        // The handler picks the server; a failure (here: connection refused) makes it retry on another one.
        string name = await http.GetStringAsync("/", timeout.Token);
        counts[name]++;
    }

    return counts;
}

void Print(string title, Dictionary<string, int> counts)
{
    Console.WriteLine(title);
    foreach (var backend in backends)
    {
        Console.WriteLine($"  {backend.Name,-8} 127.0.0.1:{backend.Port,-5} weight {weights[Array.IndexOf(backends, backend)]}  {counts[backend.Name],4} requests{(backend.Running ? string.Empty : "  (stopped)")}");
    }
}

ServerStatus StatusOf(Backend backend) =>
    registry.GetStatus().Upstreams["demo"].Clusters[0].Servers.Single(s => s.Server.EndsWith($":{backend.Port}", StringComparison.Ordinal));

async Task<ServerStatus> WaitForStatusAsync(Backend backend, string status)
{
    // Heartbeat rounds run every 300 ms; poll the status report, at most 50 times.
    for (int i = 0; i < 50 && StatusOf(backend).Status != status; i++)
    {
        await Task.Delay(100, timeout.Token);
    }

    return StatusOf(backend);
}

var before = await SendAsync(120);
Print("Phase 1: all three backends up, 120 requests balanced by smooth weighted round robin", before);

await backends[1].StopAsync();
var after = await SendAsync(120);
Print("\nPhase 2: bravo stopped; its first failure marks it err and the call is retried on another server", after);

backends[0].Healthy = false;
var sick = await WaitForStatusAsync(backends[0], HealthStatus.Err);
Console.WriteLine($"\nPhase 3: alpha's /health answers 503; the heartbeat marks it {sick.Status} ({sick.Message})");
var whileSick = await SendAsync(30);
Print("  30 requests meanwhile:", whileSick);
backends[0].Healthy = true;
var healed = await WaitForStatusAsync(backends[0], HealthStatus.Ok);
Console.WriteLine($"  alpha's /health answers 200 again; the heartbeat marks it {healed.Status}");

Console.WriteLine("\nStatus (lua-resty-checkups get_status shape):");
Console.WriteLine(registry.GetStatus().ToJson(indented: true));

await host.StopAsync(timeout.Token);
foreach (var backend in backends)
{
    await backend.DisposeAsync();
}

// The demo checks itself, so a broken build shows as a non-zero exit.
bool ok = before["alpha"] == 20 && before["bravo"] == 40 && before["charlie"] == 60
    && after["bravo"] == 0 && after["alpha"] + after["charlie"] == 120
    && sick.Status == HealthStatus.Err && whileSick["alpha"] == 0 && whileSick["charlie"] == 30
    && healed.Status == HealthStatus.Ok;
Console.WriteLine(ok
    ? "\nDemo finished: traffic followed the weights, routed around the stopped backend, and the heartbeat took alpha out and back."
    : "\nDemo FAILED: unexpected distribution or status.");
return ok ? 0 : 1;
