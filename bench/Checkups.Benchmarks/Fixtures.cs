using System.Threading;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Model;
using Checkups.Registry;

namespace Checkups.Benchmarks;

/// <summary>Registries shaped like the ones the benchmarks measure.</summary>
internal static class Fixtures
{
    public const string Upstream = "api";

    /// <summary>A synchronously completing callback, passed as static state so the call allocates nothing.</summary>
    public static readonly System.Func<Server, int, CancellationToken, ValueTask<int>> Echo =
        static (server, state, _) => new ValueTask<int>(server.Port + state);

    /// <summary>One try-loop call with <see cref="Echo"/>; it must complete synchronously, which is what is measured.</summary>
    public static int ExecuteSynchronously(UpstreamRegistry registry)
    {
        var call = registry.ExecuteAsync(Upstream, 1, Echo);
        return call.IsCompletedSuccessfully ? call.Result : throw new System.InvalidOperationException("The call did not complete synchronously.");
    }

    /// <summary>
    /// An upstream of <paramref name="servers"/> servers with weights 1..5 repeating, or the weights
    /// <paramref name="weight"/> gives by index; with <paramref name="neighbour"/>, a second upstream beside it.
    /// </summary>
    public static UpstreamRegistry Registry(int servers, string mode = BalancingModes.WeightedRoundRobin, System.Func<int, int>? weight = null, bool neighbour = false)
    {
        var upstream = new UpstreamOptions { Mode = mode };
        for (int i = 0; i < servers; i++)
        {
            upstream.Servers.Add(new ServerOptions
            {
                Host = "127.0.0.1",
                Port = 10000 + i,
                Weight = weight?.Invoke(i) ?? 1 + (i % 5),
                MaxFails = 3,
                FailTimeout = System.TimeSpan.FromHours(1),
            });
        }

        var options = new CheckupsOptions();
        options.Upstreams.Add(Upstream, upstream);
        if (neighbour)
        {
            // A second upstream of two servers that one failure marks err and one success brings back.
            var flapping = new UpstreamOptions();
            flapping.Servers.Add(new ServerOptions { Host = "127.0.0.1", Port = 9001, MaxFails = 1 });
            flapping.Servers.Add(new ServerOptions { Host = "127.0.0.1", Port = 9002, MaxFails = 1 });
            options.Upstreams.Add(Neighbour, flapping);
        }

        return new UpstreamRegistry(options);
    }

    /// <summary>The upstream beside <see cref="Upstream"/> that <see cref="FlapAsync"/> turns err and back.</summary>
    public const string Neighbour = "neighbour";

    /// <summary>
    /// Turns a server of <see cref="Neighbour"/> err and back, over and over, until <paramref name="stop"/> is cancelled: a
    /// failing upstream beside the one measured. Each turn moves that upstream's selectable epoch twice.
    /// </summary>
    public static Task<long> FlapAsync(UpstreamRegistry registry, CancellationToken stop) => Task.Run(() =>
    {
        // What ReportFailure and ReportSuccess do to one server, without formatting its key on each call: the flapping
        // thread must not slow the measured one by garbage collections.
        var upstream = registry.Get(Neighbour);
        var server = upstream.Clusters[0].Servers[0];
        long flaps = 0;
        while (!stop.IsCancellationRequested)
        {
            server.Health.RecordFailure(server, upstream);
            server.Health.RecordSuccess();
            flaps++;
        }

        return flaps;
    });

    /// <summary>Marks every <paramref name="every"/>th server <c>err</c> through passive accounting (three reported failures).</summary>
    public static void MarkErr(UpstreamRegistry registry, int servers, int every)
    {
        for (int i = 0; i < servers; i += every)
        {
            for (int f = 0; f < 3; f++)
            {
                registry.ReportFailure(Upstream, "127.0.0.1", 10000 + i);
            }
        }
    }
}
