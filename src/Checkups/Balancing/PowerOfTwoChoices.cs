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

    private readonly Server[] _peers;
    private readonly RandomSource _random;
    private readonly WeightedAliasTable _table;

    public PowerOfTwoChoices(ImmutableArray<Server> peers, BalancingEnvironment environment)
    {
        _peers = peers.ToArray();
        _random = environment.Random;
        _table = new WeightedAliasTable(_peers);
    }

    public override Server? Select(ref SelectionContext context)
    {
        int first = -1;
        if (_table.Count >= 2 && TryDraw(ref context, -1, out first) && TryDraw(ref context, first, out int second))
        {
            return Candidates.LessLoaded(_peers[second], _peers[first]) ? _peers[second] : _peers[first];
        }

        // Keep a first choice already drawn (redrawing it would favour pairs whose second is easy to find); the rest is
        // drawn among the usable servers.
        return SelectAmongUsable(ref context, first);
    }

    private bool TryDraw(ref SelectionContext context, int other, out int drawn)
    {
        long now = 0;
        for (int attempt = 0; attempt < Redraws; attempt++)
        {
            drawn = _table.Draw(_random);
            var peer = _peers[drawn];
            if (drawn != other && !context.Tried.Contains(peer.Index) && ServerHealth.IsSelectable(peer, ref now))
            {
                return true;
            }
        }

        drawn = -1;
        return false;
    }

    private Server? SelectAmongUsable(ref SelectionContext context, int first)
    {
        // Above the stack limit the buffer is rented, so a pick allocates nothing at any cluster size.
        int[]? rented = _peers.Length <= Candidates.StackLimit ? null : ArrayPool<int>.Shared.Rent(_peers.Length);
        try
        {
            Span<int> candidates = rented is null ? stackalloc int[_peers.Length] : rented;
            int count = Candidates.Collect(_peers, ref context, candidates, out long totalWeight);
            if (first >= 0)
            {
                // Draw the second among the usable servers other than the first.
                int position = candidates[..count].IndexOf(first);
                if (position >= 0)
                {
                    totalWeight -= _peers[first].Weight;
                    candidates[position] = candidates[count - 1];
                    count--;
                }

                if (count == 0)
                {
                    return _peers[first];
                }

                int other = candidates[Candidates.DrawWeighted(_peers, candidates[..count], totalWeight, _random)];
                return Candidates.LessLoaded(_peers[other], _peers[first]) ? _peers[other] : _peers[first];
            }

            if (count <= 1)
            {
                return count == 0 ? null : _peers[candidates[0]];
            }

            var (a, b) = Candidates.DrawTwo(_peers, candidates[..count], totalWeight, _random);
            return Candidates.LessLoaded(_peers[b], _peers[a]) ? _peers[b] : _peers[a];
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
