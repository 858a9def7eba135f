using System;
using System.Buffers;
using System.Collections.Immutable;
using System.Linq;
using Checkups.Health;
using Checkups.Model;

namespace Checkups.Balancing;

/// <summary>
/// Power of two choices: of two servers drawn in proportion to their weights, the one with fewer calls in flight per unit
/// of weight. Draws come from an alias table, O(1) whatever the cluster's size; a drawn server that is not selectable (or
/// already tried) is drawn again a few times, and only when that keeps failing are the usable servers gathered, O(n).
/// </summary>
internal sealed class PowerOfTwoChoices : InFlightSelector
{
    /// <summary>Draws for each of the two choices before gathering the usable servers instead.</summary>
    internal const int Redraws = 8;

    private readonly Server[] _servers;

    // What a pick compares, by position, so that it reads two servers' health and nothing else of theirs: at 10,000
    // servers a server's own memory is not in cache.
    private readonly ServerHealth[] _health;
    private readonly int[] _weights;
    private readonly ServersOut _out;
    private readonly RandomSource _random;
    private readonly WeightedAliasTable _table;
    private int _picks;

    public PowerOfTwoChoices(ImmutableArray<Server> servers, BalancingEnvironment environment)
    {
        _servers = servers.ToArray();
        _health = _servers.Select(server => server.Health).ToArray();
        _weights = _servers.Select(server => server.Weight).ToArray();
        _out = new ServersOut(_servers);
        _random = environment.Random;
        _table = new WeightedAliasTable(_servers);
    }

    public override Server? Pick(ref SelectionContext context)
    {
        int first = -1;
        if (_table.Count >= 2)
        {
            // One pick in 64 checks the clock for a passive err that ran out (a racy count is fine for that).
            var map = _out.Current(checkClock: (++_picks & 63) == 0);
            if (TryDraw(ref context, -1, map, out first) && TryDraw(ref context, first, map, out int second))
            {
                return _servers[LessLoaded(second, first) ? second : first];
            }
        }

        // Keep a first choice already drawn (redrawing it would favour pairs whose second is easy to find); the rest is
        // drawn among the usable servers.
        return SelectAmongUsable(ref context, first);
    }

    private bool TryDraw(ref SelectionContext context, int other, ServersOut.OutMap? map, out int drawn)
    {
        long now = 0;
        for (int attempt = 0; attempt < Redraws; attempt++)
        {
            drawn = _table.Draw(_random);
            if (drawn != other
                && (context.Tried.IsEmpty || !context.Tried.Contains(_servers[drawn].Index))
                && (map is null ? ServerHealth.IsSelectable(_servers[drawn], ref now) : !map.IsOut(drawn)))
            {
                return true;
            }
        }

        drawn = -1;
        return false;
    }

    /// <summary>Whether <paramref name="a"/> has fewer calls in flight per unit of weight than <paramref name="b"/>.</summary>
    private bool LessLoaded(int a, int b) =>
        ((long)_health[a].InFlight + 1) * _weights[b] < ((long)_health[b].InFlight + 1) * _weights[a];

    private Server? SelectAmongUsable(ref SelectionContext context, int first)
    {
        // Above the stack limit the buffer is rented, so a pick allocates nothing at any cluster size.
        int[]? rented = _servers.Length <= Candidates.StackLimit ? null : ArrayPool<int>.Shared.Rent(_servers.Length);
        try
        {
            Span<int> candidates = rented is null ? stackalloc int[_servers.Length] : rented;
            int count = Candidates.Collect(_servers, ref context, candidates, out long totalWeight);
            if (first >= 0)
            {
                // Draw the second among the usable servers other than the first.
                int position = candidates[..count].IndexOf(first);
                if (position >= 0)
                {
                    totalWeight -= _servers[first].Weight;
                    candidates[position] = candidates[count - 1];
                    count--;
                }

                if (count == 0)
                {
                    return _servers[first];
                }

                int other = candidates[Candidates.DrawWeighted(_servers, candidates[..count], totalWeight, _random)];
                return _servers[LessLoaded(other, first) ? other : first];
            }

            if (count <= 1)
            {
                return count == 0 ? null : _servers[candidates[0]];
            }

            var (a, b) = Candidates.DrawTwo(_servers, candidates[..count], totalWeight, _random);
            return _servers[LessLoaded(b, a) ? b : a];
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<int>.Shared.Return(rented);
            }
        }
    }
}
