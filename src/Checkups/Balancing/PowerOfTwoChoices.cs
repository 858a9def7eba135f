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
        if (_table.Count >= 2 && TryDraw(ref context, -1, out int first) && TryDraw(ref context, first, out int second))
        {
            return Candidates.LessLoaded(_peers[second], _peers[first]) ? _peers[second] : _peers[first];
        }

        return SelectAmongUsable(ref context);
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

    private Server? SelectAmongUsable(ref SelectionContext context)
    {
        // Above the stack limit the buffer is rented, so a pick allocates nothing at any cluster size.
        int[]? rented = _peers.Length <= Candidates.StackLimit ? null : ArrayPool<int>.Shared.Rent(_peers.Length);
        try
        {
            Span<int> candidates = rented is null ? stackalloc int[_peers.Length] : rented;
            int count = Candidates.Collect(_peers, ref context, candidates, out long totalWeight);
            if (count <= 1)
            {
                return count == 0 ? null : _peers[candidates[0]];
            }

            var (first, second) = Candidates.DrawTwo(_peers, candidates[..count], totalWeight, _random);
            return Candidates.LessLoaded(_peers[second], _peers[first]) ? _peers[second] : _peers[first];
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
