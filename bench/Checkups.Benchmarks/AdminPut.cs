using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Checkups.Benchmarks;

/// <summary>
/// The admin API under a large body: a PUT of 10,000 servers (Slardar's <c>{"servers": [...]}</c>) to a Kestrel host on
/// 127.0.0.1, from the first byte sent to the answer, and the longest a small PUT to another upstream takes meanwhile.
/// The host runs in a process of its own under the server garbage collector, as an ASP.NET Core application does by
/// default; the client's allocations are not the host's.
/// </summary>
internal static class AdminPut
{
    private const int Servers = 10_000;

    /// <summary>Runs the admin host alone (<c>serve-admin</c>); its port goes to stdout, and it stops when stdin closes.</summary>
    public static async Task<int> ServeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0);
            kestrel.Limits.MaxRequestBodySize = 64 * 1024 * 1024;
        });
        builder.Services.AddCheckups(options => options.HeartbeatEnabled = false);
        builder.Services.AddRouting();
        await using var app = builder.Build();
        app.MapCheckupsAdmin("/checkups", admin =>
        {
            admin.AllowAnonymous = true;
            admin.MaxBodyBytes = 64 * 1024 * 1024;
        });
        await app.StartAsync();
        int port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        Console.WriteLine(port.ToString(CultureInfo.InvariantCulture));
        await Console.In.ReadToEndAsync();
        await app.StopAsync();
        return 0;
    }

    public static async Task<(double PutMilliseconds, double OtherWaitMilliseconds)> MeasureAsync(int rounds = 5)
    {
        using var host = BenchProcess.Start("serve-admin", serverGc: true, out int port);
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromMinutes(5) };
            byte[] small = Body(3, port: 9090);
            double bestPut = double.MaxValue;
            double worstWait = 0;

            // One round of each unmeasured first: what is measured is the steady state, not the first compilation.
            await PutAsync(client, "large", Body(Servers, port: 8082));
            await PutAsync(client, "other", small);
            for (int round = 0; round < rounds; round++)
            {
                // Alternate the port so every round changes every server.
                byte[] body = Body(Servers, port: 8080 + (round % 2));
                long started = Stopwatch.GetTimestamp();
                var big = PutAsync(client, "large", body);

                // Small PUTs to another upstream while the large one is on its way; the slowest one is the wait.
                int smallPuts = 0;
                while (!big.IsCompleted && smallPuts < 10_000)
                {
                    long smallStarted = Stopwatch.GetTimestamp();
                    await PutAsync(client, "other", smallPuts % 2 == 0 ? small : Body(3, port: 9091));
                    if (!big.IsCompleted)
                    {
                        worstWait = Math.Max(worstWait, Stopwatch.GetElapsedTime(smallStarted).TotalMilliseconds);
                    }

                    smallPuts++;
                }

                await big;
                bestPut = Math.Min(bestPut, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }

            // The last large PUT was applied whole.
            using var answer = JsonDocument.Parse(await client.GetStringAsync("/checkups/upstreams/large"));
            int applied = answer.RootElement.GetProperty("options").GetProperty("Servers").GetArrayLength();
            if (applied != Servers)
            {
                throw new InvalidOperationException($"the large PUT applied {applied} servers, not {Servers}");
            }

            return (Math.Round(bestPut, 1), Math.Round(worstWait, 1));
        }
        finally
        {
            host.Kill(entireProcessTree: true);
            await host.WaitForExitAsync();
        }
    }

    private static async Task PutAsync(HttpClient client, string name, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await client.PutAsync("/checkups/upstreams/" + name, content);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"PUT {name} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    private static byte[] Body(int servers, int port)
    {
        var json = new StringBuilder("{\"servers\":[");
        for (int i = 0; i < servers; i++)
        {
            json.Append(i == 0 ? "" : ",")
                .Append(CultureInfo.InvariantCulture, $"{{\"host\":\"10.{i / 62500}.{i / 250 % 250}.{i % 250 + 1}\",\"port\":{port},\"weight\":{1 + (i % 5)},\"max_fails\":2,\"fail_timeout\":10}}");
        }

        return Encoding.UTF8.GetBytes(json.Append("]}").ToString());
    }
}
