using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Demo;
using Checkups.Registry;
using Microsoft.Extensions.DependencyInjection;

// Three real HTTP backends on loopback, weighted 1 : 2 : 3.
var backends = new[] { await Backend.StartAsync("alpha"), await Backend.StartAsync("bravo"), await Backend.StartAsync("charlie") };
int[] weights = { 1, 2, 3 };
using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

var services = new ServiceCollection();
services.AddCheckups(options =>
{
    var upstream = new UpstreamOptions();
    upstream.Heartbeat.Enabled = false;
    for (int i = 0; i < backends.Length; i++)
    {
        upstream.Servers.Add(new ServerOptions
        {
            Host = "127.0.0.1",
            Port = backends[i].Port,
            Weight = weights[i],
            MaxFails = 1,                         // one failure in the window marks a server err…
            FailTimeout = TimeSpan.FromSeconds(10), // …for ten seconds
        });
    }

    options.Upstreams["demo"] = upstream;
});
await using var provider = services.BuildServiceProvider();
var registry = provider.GetRequiredService<UpstreamRegistry>();
using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(2) });

async Task<Dictionary<string, int>> SendAsync(int requests)
{
    var counts = backends.ToDictionary(b => b.Name, _ => 0);
    for (int i = 0; i < requests; i++)
    {
        // The callback gets the chosen server; a failure (here: connection refused) makes the try loop move on.
        string name = await registry.ExecuteAsync(
            "demo",
            http,
            static async (peer, client, ct) => await client.GetStringAsync($"http://{peer.Key}/", ct),
            cancellationToken: timeout.Token);
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

var before = await SendAsync(120);
Print("Phase 1: all three backends up, 120 requests balanced by smooth weighted round robin", before);

await backends[1].StopAsync();
var after = await SendAsync(120);
Print("\nPhase 2: bravo stopped; its first failure marks it err and the call is retried on another server", after);

Console.WriteLine("\nStatus (lua-resty-checkups get_status shape):");
Console.WriteLine(registry.GetStatus().ToJson(indented: true));

foreach (var backend in backends)
{
    await backend.DisposeAsync();
}

// The demo checks itself, so a broken build shows as a non-zero exit.
bool ok = before["alpha"] == 20 && before["bravo"] == 40 && before["charlie"] == 60
    && after["bravo"] == 0 && after["alpha"] + after["charlie"] == 120;
Console.WriteLine(ok ? "\nDemo finished: traffic followed the weights and routed around the stopped backend." : "\nDemo FAILED: unexpected distribution.");
return ok ? 0 : 1;
