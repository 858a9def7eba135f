using System;
using System.Collections.Immutable;
using System.Linq;
using Checkups.Model;

namespace Checkups.Balancing;

/// <summary>Power of two choices: of two servers drawn in proportion to their weights, the one with fewer calls in flight per unit of weight.</summary>
internal sealed class PowerOfTwoChoices : InFlightSelector
{
    private readonly Server[] _peers;
    private readonly RandomSource _random;

    public PowerOfTwoChoices(ImmutableArray<Server> peers, BalancingEnvironment environment)
    {
        _peers = peers.ToArray();
        _random = environment.Random;
    }

    public override Server? Select(ref SelectionContext context)
    {
        Span<int> candidates = _peers.Length <= Candidates.StackLimit ? stackalloc int[_peers.Length] : new int[_peers.Length];
        int count = Candidates.Collect(_peers, ref context, candidates, out long totalWeight);
        if (count <= 1)
        {
            return count == 0 ? null : _peers[candidates[0]];
        }

        var (first, second) = Candidates.DrawTwo(_peers, candidates[..count], totalWeight, _random);
        return Candidates.LessLoaded(_peers[second], _peers[first]) ? _peers[second] : _peers[first];
    }
}
