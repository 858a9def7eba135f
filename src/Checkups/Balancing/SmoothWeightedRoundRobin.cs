using System;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Checkups.Health;
using Checkups.Model;

namespace Checkups.Balancing;

/// <summary>
/// nginx's smooth weighted round robin. Per pick every selectable server adds its effective weight to its
/// current weight; the highest current weight wins (the first on ties) and subtracts the total. Effective
/// weight starts at the weight, rises by 1 per pick while below it, and halves (rounding up, at least 1) on a
/// failure. The step is sequential by nature, so it holds a short lock per cluster.
/// </summary>
internal sealed class SmoothWeightedRoundRobin : PeerSelector
{
    private readonly Peer[] _peers;
    private readonly long[] _current;
    private readonly int[] _effective;
#if NET9_0_OR_GREATER
    private readonly Lock _gate = new();
#else
    private readonly object _gate = new();
#endif

    public SmoothWeightedRoundRobin(ImmutableArray<Peer> peers)
    {
        _peers = peers.ToArray();
        _current = new long[_peers.Length];
        _effective = new int[_peers.Length];
        for (int i = 0; i < _peers.Length; i++)
        {
            _effective[i] = _peers[i].Weight;
        }
    }

    public override Peer? Select(ref SelectionContext context)
    {
        var peers = _peers;
        var current = _current;
        var effective = _effective;
        bool anyTried = !context.Tried.IsEmpty;
        long now = 0;
        lock (_gate)
        {
            int best = -1;
            long total = 0;
            for (int i = 0; i < peers.Length; i++)
            {
                var peer = peers[i];
                if ((anyTried && context.Tried.Contains(i)) || !PeerHealth.IsSelectable(peer, ref now))
                {
                    continue;
                }

                int weight = effective[i];
                current[i] += weight;
                total += weight;
                if (weight < peer.Weight)
                {
                    effective[i] = weight + 1;
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
            return peers[best];
        }
    }

    public override void OnCompleted(Peer peer, in CallOutcome outcome)
    {
        if (!outcome.Failed || (uint)peer.Index >= (uint)_peers.Length || !ReferenceEquals(_peers[peer.Index], peer))
        {
            return;
        }

        lock (_gate)
        {
            int weight = _effective[peer.Index];
            _effective[peer.Index] = Math.Max(1, (weight + 1) / 2);
        }
    }
}
