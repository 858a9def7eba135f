using System;
using System.Threading;
using Checkups.Health;
using Checkups.Model;

namespace Checkups.Balancing;

/// <summary>
/// Smooth weighted round robin for large clusters (servers × cycle length above
/// <see cref="SmoothWeightedRoundRobin.ExactBudget"/>), lock-free and O(1) per pick at any size. The cycle nginx's
/// algorithm makes from a reset state is run once (grouped by weight, <see cref="SmoothSequence"/>) and served by an
/// interlocked cursor, so while every server is selectable the sequence is exactly nginx's.
/// </summary>
/// <remarks>
/// <para>
/// A pick reads the cycle in order and a small map of the servers that are out, so it touches no server's own memory
/// (at 10,000 servers that memory is not in cache, and reading it cost more than the rest of the pick). The map is
/// rebuilt when the upstream's <see cref="UpstreamHealth.SelectableEpoch"/> moves (a server turned <c>err</c> or back) and, while a
/// server is out by passive accounting, every 64th pick checks the clock for its return.
/// </para>
/// <para>
/// A server that is not selectable gives up its turn: the pick takes the next position, so its share goes to the
/// servers after it in the cycle, which spreads it in proportion to weight. nginx instead steps over the others,
/// which keeps the proportions too but at O(n) per pick under a lock.
/// </para>
/// <para>
/// A failure does not lower an effective weight here. In nginx's algorithm the lowered weight climbs back by one per
/// pick of the whole cluster; at this size the share it moves is a small fraction of one pick (a weight-100 server
/// halved in a cluster weighing 500,000 loses 0.003 of a pick), far below what a skipped turn of an <c>err</c> server
/// moves. A retry takes the next untried selectable server of the cycle without moving the shared cursor.
/// </para>
/// <para>
/// A cycle longer than <see cref="MaxCycle"/> (a weight sum of a few million) is made for weights scaled down to fit,
/// each at least 1: proportions within 1 / <see cref="MaxCycle"/> of the total.
/// </para>
/// </remarks>
internal sealed class WeightedSchedule : ServerSelector
{
    /// <summary>The longest cycle kept (a weight sum of a million; 16 MB of positions).</summary>
    internal const int MaxCycle = 1 << 20;

    /// <summary>Turns given up in a row before a pick checks that any server is selectable at all.</summary>
    private const int MissesBeforeScan = 32;

    private readonly Server[] _servers;
    private readonly Turn[] _order;
    private readonly CycleLength _length;
    private long _cursor = -1;
    private readonly ServersOut _out;

    public WeightedSchedule(Server[] servers)
    {
        _servers = servers;
        var order = BuildCycle(servers);
        _order = new Turn[order.Length];
        for (int i = 0; i < order.Length; i++)
        {
            _order[i] = new Turn(servers[order[i]], order[i]);
        }

        _length = new CycleLength(order.Length);
        _out = new ServersOut(servers);
    }

    public override Server? Pick(ref SelectionContext context)
    {
        var order = _order;
        if (order.Length == 0)
        {
            return null;
        }

        long now = 0;
        if (context.Tried.IsEmpty)
        {
            for (int miss = 0; miss < order.Length; miss++)
            {
                long position = Interlocked.Increment(ref _cursor);
                var turn = order[_length.Of(position)];
                var map = _out.Current(checkClock: (position & 63) == 0);
                if (map is null ? ServerHealth.IsSelectable(turn.Server, ref now) : !map.IsOut(turn.Slot))
                {
                    return turn.Server;
                }

                if (miss == MissesBeforeScan && !AnySelectable(ref context, ref now))
                {
                    return null;
                }
            }

            return null;
        }

        // A retry: the next untried selectable server of the cycle, leaving the shared cursor where it is.
        var current = _out.Current(checkClock: false);
        int at = _length.Of(Volatile.Read(ref _cursor) + 1);
        for (int step = 0; step < order.Length; step++)
        {
            var turn = order[at];
            at = at + 1 == order.Length ? 0 : at + 1;
            if (!context.Tried.Contains(turn.Server.Index)
                && (current is null ? ServerHealth.IsSelectable(turn.Server, ref now) : !current.IsOut(turn.Slot)))
            {
                return turn.Server;
            }

            if (step == MissesBeforeScan && !AnySelectable(ref context, ref now))
            {
                return null;
            }
        }

        return null;
    }

    private bool AnySelectable(ref SelectionContext context, ref long now)
    {
        foreach (var server in _servers)
        {
            if (!context.Tried.Contains(server.Index) && ServerHealth.IsSelectable(server, ref now))
            {
                return true;
            }
        }

        return false;
    }

    private static int[] BuildCycle(Server[] servers)
    {
        if (servers.Length == 0)
        {
            return Array.Empty<int>();
        }

        var weights = new int[servers.Length];
        long sum = 0;
        for (int i = 0; i < servers.Length; i++)
        {
            weights[i] = servers[i].Weight;
            sum += weights[i];
        }

        if (sum > MaxCycle)
        {
            // Scaled to fit; with every weight at least 1 the sum can still exceed the cap by the number of servers.
            long scaled = 0;
            for (int i = 0; i < weights.Length; i++)
            {
                weights[i] = (int)Math.Max(1, weights[i] * (long)(MaxCycle - servers.Length) / sum);
                scaled += weights[i];
            }

            sum = scaled;
        }

        int divisor = 0;
        foreach (int weight in weights)
        {
            divisor = SmoothWeightedRoundRobin.Gcd(divisor, weight);
        }

        var participants = new int[servers.Length];
        for (int i = 0; i < weights.Length; i++)
        {
            weights[i] /= divisor;
            participants[i] = i;
        }

        var order = new int[sum / divisor];
        SmoothSequence.Run(weights, participants, new long[servers.Length], order);
        return order;
    }

    /// <summary>One position of the cycle: the server, and its slot in the map of servers that are out.</summary>
    private readonly record struct Turn(Server Server, int Slot);}
