using System;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Consul;
using Checkups.Registry;
using Checkups.TestUtils;

namespace Checkups.Benchmarks;

/// <summary>
/// <c>consul.propagation.*</c>: against a real agent, the time from a KV PUT returning to the registry having applied the
/// change (seen through its <c>Changed</c> event), over 100 weight changes.
/// </summary>
internal static class ConsulPropagation
{
    public static async Task<(double P50Ms, double P99Ms)?> MeasureAsync(int changes = 100)
    {
        try
        {
            _ = ConsulAgent.Binary();
        }
        catch (System.IO.FileNotFoundException ex)
        {
            Console.Error.WriteLine($"consul.propagation skipped: {ex.Message}");
            return null;
        }

        var agent = new ConsulAgent();
        await agent.InitializeAsync();
        try
        {
            await agent.PutAsync("upstreams/bench/127.0.0.1:8001", "");
            using var registry = new UpstreamRegistry(new CheckupsOptions());
            var options = new ConsulOptions { Upstream = "bench" };
            options.Addresses.Add(agent.Address);
            await using var watch = new ConsulWatch(registry, options);
            await watch.StartAsync();

            long appliedAt = 0;
            var applied = new TaskCompletionSource();
            registry.Changed += (_, change) =>
            {
                if (change.Source == "consul:bench")
                {
                    appliedAt = Stopwatch.GetTimestamp();
                    applied.TrySetResult();
                }
            };

            var samples = new double[changes];
            for (int i = 0; i < changes; i++)
            {
                applied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var wait = applied.Task;
                await agent.PutAsync("upstreams/bench/127.0.0.1:8001", $$"""{"weight": {{2 + (i % 50)}}}""");
                long putReturned = Stopwatch.GetTimestamp();
                await wait.WaitAsync(TimeSpan.FromSeconds(30));

                // The change can be applied before the PUT's answer is read: that counts as 0.
                samples[i] = Math.Max(0, (appliedAt - putReturned) * 1000.0 / Stopwatch.Frequency);
            }

            var sorted = samples.Order().ToArray();
            return (Math.Round(sorted[(changes / 2) - 1], 3), Math.Round(sorted[(int)Math.Ceiling(changes * 0.99) - 1], 3));
        }
        finally
        {
            await agent.DisposeAsync();
        }
    }
}
