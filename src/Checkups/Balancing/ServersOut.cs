using System;
using System.Threading;
using Checkups.Health;
using Checkups.Model;

namespace Checkups.Balancing;

/// <summary>
/// Which of a selector's servers are out (not selectable), cached as a bit map so a pick over a large cluster reads a
/// few kilobytes instead of each drawn server's own memory, which at 10,000 servers is not in cache. The map is rebuilt,
/// O(n), when the upstream's <see cref="UpstreamHealth.SelectableEpoch"/> moves (a server turned <c>err</c> or back) and, while a server
/// is out by passive accounting, when a pick that checks the clock finds its <c>err</c> over.
/// </summary>
internal sealed class ServersOut
{
    private readonly Server[] _servers;
    private readonly UpstreamHealth _health;
    private volatile OutMap _map;
    private int _refreshing;

    public ServersOut(Server[] servers)
    {
        _servers = servers;
        _health = UpstreamHealth.Of(servers);
        _map = OutMap.Build(servers, _health);
    }

    /// <summary>
    /// The map, rebuilt first when stale (the clock is read only with <paramref name="checkClock"/>, which callers set on
    /// one pick in 64); <see langword="null"/> while another pick rebuilds it: the caller then reads the server's health.
    /// </summary>
    public OutMap? Current(bool checkClock)
    {
        var map = _map;
        if (map.Epoch == _health.SelectableEpoch && (map.ReviveAt == 0 || !checkClock || map.Clock.GetTimestamp() < map.ReviveAt))
        {
            return map;
        }

        if (Interlocked.Exchange(ref _refreshing, 1) != 0)
        {
            return null;
        }

        try
        {
            _map = map = OutMap.Build(_servers, _health);
            return map;
        }
        finally
        {
            Volatile.Write(ref _refreshing, 0);
        }
    }

    /// <summary>Which servers were out when it was built, and what makes it stale.</summary>
    internal sealed class OutMap
    {
        private readonly ulong[]? _bits;

        private OutMap(int epoch, ulong[]? bits, long reviveAt, TimeProvider clock)
        {
            Epoch = epoch;
            _bits = bits;
            ReviveAt = reviveAt;
            Clock = clock;
        }

        public int Epoch { get; }

        /// <summary>Gets when the earliest passive <c>err</c> among the servers out ends (timestamp), or 0.</summary>
        public long ReviveAt { get; }

        public TimeProvider Clock { get; }

        public bool IsOut(int slot) => _bits is not null && (_bits[slot >> 6] & (1UL << slot)) != 0;

        public static OutMap Build(Server[] servers, UpstreamHealth health)
        {
            // The epoch is read before the servers: a change after a server's check moves it, so the map is rebuilt.
            int epoch = health.SelectableEpoch;
            ulong[]? bits = null;
            long reviveAt = long.MaxValue;
            long now = 0;
            for (int i = 0; i < servers.Length; i++)
            {
                var server = servers[i];
                if (ServerHealth.IsSelectable(server, ref now))
                {
                    continue;
                }

                bits ??= new ulong[(servers.Length + 63) / 64];
                bits[i >> 6] |= 1UL << i;
                if (server.Health.RevivesAt is var until and > 0)
                {
                    reviveAt = Math.Min(reviveAt, until);
                }
            }

            var clock = servers.Length > 0 ? servers[0].Health.Time : TimeProvider.System;
            return new OutMap(epoch, bits, reviveAt == long.MaxValue ? 0 : reviveAt, clock);
        }
    }
}
