using System;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Checkups.Hashing;
using Checkups.Health;
using Checkups.Model;

namespace Checkups.Balancing;

/// <summary>
/// Consistent hashing over a weighted <see cref="MaglevTable"/>. A key whose server cannot be used (down, err, or already
/// tried in this call) moves along its own sequence of probe slots (the key's hash mixed with the probe number), so the
/// keys of one unavailable server spread over all the others in proportion to their slots instead of piling onto one
/// neighbour; the sequence depends only on the key, so the move is deterministic. With a balance factor, a server with
/// more calls in flight than ceil(factor × mean) is passed over for the next slot in table order; the counts are this
/// selector's own (calls it started), so the cap and the per-server counts always agree, also across reloads. The walk
/// is bounded; when no server under the cap turns up, the key's own server (or its probe sequence) is used. Calls
/// without a key are balanced by smooth weighted round robin.
/// </summary>
internal sealed class MaglevSelector : InFlightSelector
{
    /// <summary>Slots per server the bounded-load walk may visit before giving up on the bound.</summary>
    internal const int WalkSlotsPerServer = 8;

    /// <summary>Probe slots tried before walking the servers in order.</summary>
    internal const int Probes = 32;

    private const ulong ProbeStep = 0x9E3779B97F4A7C15UL;

    private readonly Server[] _peers;
    private readonly MaglevTable _table;
    private readonly double _balanceFactor;
    private readonly ServerSelector _withoutKey;
    private readonly int[] _loads;

    public MaglevSelector(ImmutableArray<Server> peers, int? tableSize, double? balanceFactor)
        : base(observesCalls: balanceFactor > 0)
    {
        _peers = peers.ToArray();
        _table = MaglevTable.Build(_peers, tableSize ?? MaglevTable.SizeFor(_peers.Length));
        _balanceFactor = balanceFactor ?? 0;
        _withoutKey = SmoothWeightedRoundRobin.Create(peers);
        _loads = new int[_peers.Length];
    }

    public override Server? Pick(ref SelectionContext context)
    {
        if (!context.HasKey)
        {
            return _withoutKey.Pick(ref context);
        }

        ulong hash = context.KeyHash;
        int slot = _table.SlotOf(hash);
        long now = 0;
        if (_balanceFactor > 0 && SelectUnderBound(slot, ref context, ref now) is { } bounded)
        {
            return bounded;
        }

        var peer = _peers[_table[slot]];
        if (Usable(peer, ref context, ref now))
        {
            return peer;
        }

        for (ulong probe = 1; probe <= Probes; probe++)
        {
            peer = _peers[_table[_table.SlotOf(StableHash.Mix(hash + (probe * ProbeStep)))]];
            if (Usable(peer, ref context, ref now))
            {
                return peer;
            }
        }

        // Nearly everything is unusable: take the first usable server from a key-dependent start.
        int start = (int)(hash % (ulong)_peers.Length);
        for (int i = 0; i < _peers.Length; i++)
        {
            peer = _peers[(start + i) % _peers.Length];
            if (Usable(peer, ref context, ref now))
            {
                return peer;
            }
        }

        return null;
    }

    public override void OnStarted(Server peer)
    {
        base.OnStarted(peer);
        Interlocked.Increment(ref _loads[peer.Index]);
    }

    protected override void OnReleased(Server peer) => Interlocked.Decrement(ref _loads[peer.Index]);

    protected override void OnCallCompleted(Server peer, in CallOutcome outcome) => _withoutKey.OnCompleted(peer, outcome);

    private Server? SelectUnderBound(int slot, ref SelectionContext context, ref long now)
    {
        // HAProxy's rule with the new call counted: no server may carry more than ceil(factor × (in flight + 1) / servers).
        int cap = (int)Math.Ceiling(_balanceFactor * (ClusterInFlight + 1) / _peers.Length);
        int walk = Math.Min(_table.Length, _peers.Length * WalkSlotsPerServer);
        for (int step = 0; step < walk; step++)
        {
            var peer = _peers[_table[slot]];
            if (Volatile.Read(ref _loads[peer.Index]) < cap && Usable(peer, ref context, ref now))
            {
                return peer;
            }

            if (++slot == _table.Length)
            {
                slot = 0;
            }
        }

        return null;
    }

    private static bool Usable(Server peer, ref SelectionContext context, ref long now) =>
        !context.Tried.Contains(peer.Index) && ServerHealth.IsSelectable(peer, ref now);
}
