using System;
using System.Diagnostics;
using System.Globalization;
using Checkups.Configuration;
using Checkups.Execution;
using Checkups.Registry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Checkups.Benchmarks;

/// <summary>
/// Start and reload of a configuration of 10,000 servers the way an application has it: a configuration manager registered
/// as the application's <see cref="IConfiguration"/>, and <c>AddCheckups</c> given its <c>Checkups</c> section.
/// </summary>
internal static class ConfigurationBinding
{
    public static (double StartMilliseconds, double ReloadMilliseconds) Measure(int servers)
    {
        var manager = new ConfigurationManager();
        var data = new System.Collections.Generic.Dictionary<string, string?>();
        for (int i = 0; i < servers; i++)
        {
            string at = "Checkups:Upstreams:api:Servers:" + i.ToString(CultureInfo.InvariantCulture);
            data[at + ":Host"] = "10." + (i / 62500).ToString(CultureInfo.InvariantCulture) + "." + (i / 250 % 250).ToString(CultureInfo.InvariantCulture) + "." + (i % 250 + 1).ToString(CultureInfo.InvariantCulture);
            data[at + ":Port"] = "8080";
            data[at + ":Weight"] = (1 + i % 5).ToString(CultureInfo.InvariantCulture);
            data[at + ":MaxFails"] = "2";
        }

        data["Checkups:HeartbeatEnabled"] = "false";
        manager.AddInMemoryCollection(data);
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(manager);
        services.AddCheckups(manager.GetSection(CheckupsOptions.SectionName));
        using var provider = services.BuildServiceProvider();

        long started = Stopwatch.GetTimestamp();
        var registry = provider.GetRequiredService<UpstreamRegistry>();
        double start = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (registry.Get("api").Clusters[0].Servers.Length != servers)
        {
            throw new InvalidOperationException("the servers were not all bound");
        }

        long version = registry.Version;
        manager["Checkups:Upstreams:api:Servers:0:Port"] = "9090";
        started = Stopwatch.GetTimestamp();
        ((IConfigurationRoot)manager).Reload();
        double reload = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (registry.Version != version + 1 || registry.Get("api").Clusters[0].Servers[0].Port != 9090)
        {
            throw new InvalidOperationException("the reload was not applied");
        }

        return (Math.Round(start, 1), Math.Round(reload, 1));
    }
}

/// <summary>One lease acquired and completed on an upstream of 10 servers: the cost an HttpClient handler pays per attempt.</summary>
internal static class Leasing
{
    public static Model.Server AcquireAndComplete(UpstreamRegistry registry)
    {
        var lease = registry.AcquireLease(Fixtures.Upstream, ReadOnlySpan<char>.Empty);
        lease.Complete(LeaseOutcome.Success);
        return lease.Server;
    }
}

/// <summary>One run-time <c>Update</c> of one upstream in a registry of 10,000 upstreams.</summary>
internal static class Updating
{
    public static (double Microseconds, double Bytes) Measure(int upstreams)
    {
        var options = new CheckupsOptions { HeartbeatEnabled = false };
        for (int i = 0; i < upstreams; i++)
        {
            var upstream = new UpstreamOptions();
            upstream.Servers.Add(new ServerOptions { Host = "127.0.0.1", Port = 10000 + (i % 50000) });
            options.Upstreams.Add("u" + i.ToString(CultureInfo.InvariantCulture), upstream);
        }

        using var registry = new UpstreamRegistry(options);
        var replacement = new UpstreamOptions();
        replacement.Servers.Add(new ServerOptions { Host = "127.0.0.1", Port = 20000 });

        // Warm up, then the best of five rounds of 2,000 updates (spread over 100 upstreams).
        for (int i = 0; i < 2000; i++)
        {
            registry.Update("u" + (i % 100).ToString(CultureInfo.InvariantCulture), replacement);
        }

        double best = double.MaxValue;
        double bytes = 0;
        for (int round = 0; round < 5; round++)
        {
            long allocated = GC.GetAllocatedBytesForCurrentThread();
            long started = Stopwatch.GetTimestamp();
            for (int i = 0; i < 2000; i++)
            {
                registry.Update("u" + (i % 100).ToString(CultureInfo.InvariantCulture), replacement);
            }

            best = Math.Min(best, Stopwatch.GetElapsedTime(started).TotalMicroseconds / 2000);
            bytes = (GC.GetAllocatedBytesForCurrentThread() - allocated) / 2000.0;
        }

        return (Math.Round(best, 1), Math.Round(bytes));
    }
}
