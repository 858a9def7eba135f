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

    private readonly Server[] _servers;
    private readonly MaglevTable _table;
    private readonly double _balanceFactor;
    private readonly ServerSelector _withoutKey;
    private readonly int[] _loads;

    public MaglevSelector(ImmutableArray<Server> servers, int? tableSize, double? balanceFactor)
        : base(observesCalls: balanceFactor > 0)
    {
        _servers = servers.ToArray();
        _table = MaglevTable.Build(_servers, tableSize ?? MaglevTable.SizeFor(_servers.Length));
        _balanceFactor = balanceFactor ?? 0;
        _withoutKey = SmoothWeightedRoundRobin.Create(servers);
        _loads = new int[_servers.Length];
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

        var server = _servers[_table[slot]];
        if (Usable(server, ref context, ref now))
        {
            return server;
        }

        for (ulong probe = 1; probe <= Probes; probe++)
        {
            server = _servers[_table[_table.SlotOf(StableHash.Mix(hash + (probe * ProbeStep)))]];
            if (Usable(server, ref context, ref now))
            {
                return server;
            }
        }

        // Nearly everything is unusable: take the first usable server from a key-dependent start.
        int start = (int)(hash % (ulong)_servers.Length);
        for (int i = 0; i < _servers.Length; i++)
        {
            server = _servers[(start + i) % _servers.Length];
            if (Usable(server, ref context, ref now))
            {
                return server;
            }
        }

        return null;
    }

    public override void OnStarted(Server server)
    {
        base.OnStarted(server);
        Interlocked.Increment(ref _loads[server.Index]);
    }

    protected override void OnReleased(Server server) => Interlocked.Decrement(ref _loads[server.Index]);

    protected override void OnCallCompleted(Server server, in CallOutcome outcome) => _withoutKey.OnCompleted(server, outcome);

    private Server? SelectUnderBound(int slot, ref SelectionContext context, ref long now)
    {
        // HAProxy's rule with the new call counted: no server may carry more than ceil(factor × (in flight + 1) / servers).
        int cap = (int)Math.Ceiling(_balanceFactor * (ClusterInFlight + 1) / _servers.Length);
        int walk = Math.Min(_table.Length, _servers.Length * WalkSlotsPerServer);
        for (int step = 0; step < walk; step++)
        {
            var server = _servers[_table[slot]];
            if (Volatile.Read(ref _loads[server.Index]) < cap && Usable(server, ref context, ref now))
            {
                return server;
            }

            if (++slot == _table.Length)
            {
                slot = 0;
            }
        }

        return null;
    }

    private static bool Usable(Server server, ref SelectionContext context, ref long now) =>
        !context.Tried.Contains(server.Index) && ServerHealth.IsSelectable(server, ref now);
}
