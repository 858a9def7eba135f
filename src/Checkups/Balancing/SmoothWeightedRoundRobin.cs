using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Threading;
using Checkups.Health;
using Checkups.Model;

namespace Checkups.Balancing;

/// <summary>
/// nginx's smooth weighted round robin. Per pick every selectable server adds its effective weight to its
/// current weight; the highest current weight wins (the first on ties) and subtracts the total. Effective
/// weight starts at the weight, rises by 1 per pick while below it, and halves (rounding up, at least 1) on a
/// failure.
/// </summary>
/// <remarks>
/// While every server is selectable at its full weight the algorithm is periodic, so the sequence it produces from
/// a reset state is computed once (weights divided by their greatest common divisor, at most <see cref="MaxCycle"/>
/// picks long) and served lock-free by an interlocked cursor: concurrent picks take consecutive positions, so any
/// number of them is a run of the exact sequence. When a server turns unselectable or a failure lowers its effective
/// weight, the cluster steps the algorithm itself under a short lock, starting from a reset state as nginx does on
/// reload, and returns to the cycle once every server is whole again.
/// </remarks>
internal sealed class SmoothWeightedRoundRobin : ServerSelector
{
    /// <summary>The longest precomputed cycle; heavier weight sets always step.</summary>
    internal const int MaxCycle = 8192;

    private readonly Server[] _peers;
    private readonly int[]? _cycle;
    private readonly long[] _current;
    private readonly int[] _effective;
#if NET9_0_OR_GREATER
    private readonly Lock _gate = new();
#else
    private readonly object _gate = new();
#endif
    private long _cursor = -1;
    private volatile bool _whole;

    public SmoothWeightedRoundRobin(ImmutableArray<Server> peers, int maxCycle = MaxCycle)
    {
        var candidates = new List<Server>(peers.Length);
        foreach (var peer in peers)
        {
            // Down is fixed for the life of a snapshot: such servers never take part.
            if (!peer.Down)
            {
                candidates.Add(peer);
            }
        }

        _peers = candidates.ToArray();
        _current = new long[_peers.Length];
        _effective = new int[_peers.Length];
        ResetState();
        _cycle = BuildCycle(_peers, maxCycle);
        _whole = _cycle is not null;
    }

    public override Server? Select(ref SelectionContext context)
    {
        var cycle = _cycle;
        if (_whole && cycle is not null)
        {
            long now = 0;
            if (context.Tried.IsEmpty)
            {
                var peer = _peers[cycle[Interlocked.Increment(ref _cursor) % cycle.Length]];
                if (ServerHealth.IsSelectable(peer, ref now))
                {
                    return peer;
                }
            }
            else
            {
                // A retry inside a call takes the next untried server of the sequence without moving the shared cursor,
                // so other callers' picks keep their proportions.
                long start = Volatile.Read(ref _cursor) + 1;
                for (int step = 0; step < cycle.Length; step++)
                {
                    var peer = _peers[cycle[(start + step) % cycle.Length]];
                    if (context.Tried.Contains(peer.Index))
                    {
                        continue;
                    }

                    if (ServerHealth.IsSelectable(peer, ref now))
                    {
                        return peer;
                    }

                    break;
                }
            }
        }

        return Step(ref context);
    }

    public override void OnCompleted(Server peer, in CallOutcome outcome)
    {
        if (!outcome.Failed)
        {
            return;
        }

        int slot = Array.IndexOf(_peers, peer);
        if (slot < 0)
        {
            return;
        }

        lock (_gate)
        {
            if (_whole)
            {
                _whole = false;
                ResetState();
            }

            _effective[slot] = Math.Max(1, (_effective[slot] + 1) / 2);
        }
    }

    /// <summary>One step of nginx's algorithm over the selectable, untried servers.</summary>
    private Server? Step(ref SelectionContext context)
    {
        var peers = _peers;
        var current = _current;
        var effective = _effective;
        bool anyTried = !context.Tried.IsEmpty;
        long now = 0;
        lock (_gate)
        {
            if (_whole)
            {
                _whole = false;
                ResetState();
            }

            bool allWhole = !anyTried;
            int best = -1;
            long total = 0;
            for (int i = 0; i < peers.Length; i++)
            {
                var peer = peers[i];
                if ((anyTried && context.Tried.Contains(peer.Index)) || !ServerHealth.IsSelectable(peer, ref now))
                {
                    allWhole = false;
                    continue;
                }

                int weight = effective[i];
                current[i] += weight;
                total += weight;
                if (weight < peer.Weight)
                {
                    effective[i] = weight + 1;
                    allWhole = false;
                }

                if (best < 0 || current[i] > current[best])
                {
                    best = i;
                }
            }

            if (best < 0)
            {
                return null;
            }

            current[best] -= total;
            if (allWhole && _cycle is not null)
            {
                // Every server is back at full weight: resume the precomputed cycle from its start.
                Volatile.Write(ref _cursor, -1);
                _whole = true;
            }

            return peers[best];
        }
    }

    private void ResetState()
    {
        Array.Clear(_current);
        for (int i = 0; i < _peers.Length; i++)
        {
            _effective[i] = _peers[i].Weight;
        }
    }

    /// <summary>Runs the algorithm from a reset state over one period (the weights' sum divided by their GCD).</summary>
    private static int[]? BuildCycle(Server[] peers, int maxCycle)
    {
        if (peers.Length == 0)
        {
            return null;
        }

        int divisor = 0;
        long sum = 0;
        foreach (var peer in peers)
        {
            divisor = Gcd(divisor, peer.Weight);
            sum += peer.Weight;
        }

        long length = sum / divisor;
        if (length > maxCycle)
        {
            return null;
        }

        var cycle = new int[length];
        var current = new long[peers.Length];
        for (int pick = 0; pick < cycle.Length; pick++)
        {
            int best = 0;
            for (int i = 0; i < peers.Length; i++)
            {
                current[i] += peers[i].Weight / divisor;
                if (current[i] > current[best])
                {
                    best = i;
                }
            }

            current[best] -= length;
            cycle[pick] = best;
        }

        return cycle;
    }

    private static int Gcd(int a, int b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }
}
