using System;
using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using Checkups.Hashing;
using Checkups.Health;
using Checkups.Model;

namespace Checkups.Balancing;

/// <summary>
/// nginx's <c>hash $key consistent</c> (ngx_http_upstream_hash_module), point for point, so a fleet can mix nginx and
/// .NET during a migration. Per server (<c>host:port</c> as written in the configuration, split at the last colon; see
/// <see cref="Server.WrittenAddress"/>), base = CRC-32 without finalisation over
/// host, one zero byte and port; 160 × weight points, each the CRC continued from base over the previous point's hash as
/// 4 little-endian bytes (the first previous is 0), then finalised. Points are sorted ascending and equal points
/// deduplicated (the first kept). A key's hash is the full CRC-32 of its bytes; its point is the first at or above it,
/// wrapping. When that server cannot be used the following points are tried (21 in all, as nginx does), then smooth
/// weighted round robin over the rest.
/// </summary>
internal sealed class KetamaSelector : ServerSelector
{
    /// <summary>Points per unit of weight, as nginx.</summary>
    internal const int PointsPerWeight = 160;

    /// <summary>Points nginx tries before falling back to round robin.</summary>
    internal const int PointsTried = 21;

    private readonly Server[] _servers;
    private readonly uint[] _points;
    private readonly int[] _owners;
    private readonly ServerSelector _fallback;

    public KetamaSelector(ImmutableArray<Server> servers)
    {
        _servers = servers.ToArray();
        (_points, _owners) = BuildRing(_servers);
        _fallback = SmoothWeightedRoundRobin.Create(servers);
    }

    internal int PointCount => _points.Length;

    public override Server? Pick(ref SelectionContext context)
    {
        if (!context.HasKey || _points.Length == 0)
        {
            return _fallback.Pick(ref context);
        }

        int index = FirstPointAtOrAbove((uint)context.KeyHash);
        long now = 0;
        for (int tries = 0; tries < PointsTried; tries++)
        {
            var server = _servers[_owners[(index + tries) % _points.Length]];
            if (!context.Tried.Contains(server.Index) && ServerHealth.IsSelectable(server, ref now))
            {
                return server;
            }
        }

        return _fallback.Pick(ref context);
    }

    public override void OnCompleted(Server server, in CallOutcome outcome) => _fallback.OnCompleted(server, outcome);

    private int FirstPointAtOrAbove(uint hash)
    {
        int low = 0;
        int high = _points.Length;
        while (low < high)
        {
            int middle = (int)((uint)(low + high) >> 1);
            if (_points[middle] < hash)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low == _points.Length ? 0 : low;
    }

    private static (uint[] Points, int[] Owners) BuildRing(Server[] servers)
    {
        long count = 0;
        foreach (var server in servers)
        {
            count += (long)server.Weight * PointsPerWeight;
        }

        var hashes = new uint[count];
        var order = new long[count];
        int n = 0;
        for (int i = 0; i < servers.Length; i++)
        {
            // The text the configuration wrote, as nginx hashes its server line: not the canonical key. nginx's points are
            // CRC-32 of the host, a zero byte, the port and the previous point's hash (little-endian), 160 per weight unit.
            string key = servers[i].WrittenAddress;
            int colon = key.LastIndexOf(':');
            int hostLength = Encoding.UTF8.GetByteCount(key.AsSpan(0, colon));
            int portLength = Encoding.UTF8.GetByteCount(key.AsSpan(colon + 1));
            var point = new byte[hostLength + 1 + portLength + 4];
            Encoding.UTF8.GetBytes(key.AsSpan(0, colon), point);
            Encoding.UTF8.GetBytes(key.AsSpan(colon + 1), point.AsSpan(hostLength + 1));
            var previous = point.AsSpan(hostLength + 1 + portLength);
            uint previousHash = 0;
            for (int j = 0; j < servers[i].Weight * PointsPerWeight; j++)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(previous, previousHash);
                uint hash = StableHash.Crc32(point);
                hashes[n] = hash;

                // Sort key: the hash, then the point's position in configuration order, so "first kept" is well defined.
                order[n] = ((long)i << 32) | (uint)j;
                previousHash = hash;
                n++;
            }
        }

        var sorted = new (uint Hash, long Order)[count];
        for (int k = 0; k < count; k++)
        {
            sorted[k] = (hashes[k], order[k]);
        }

        Array.Sort(sorted, static (a, b) => a.Hash != b.Hash ? a.Hash.CompareTo(b.Hash) : a.Order.CompareTo(b.Order));
        int unique = 0;
        for (int k = 0; k < sorted.Length; k++)
        {
            if (unique == 0 || sorted[k].Hash != sorted[unique - 1].Hash)
            {
                sorted[unique++] = sorted[k];
            }
        }

        var points = new uint[unique];
        var owners = new int[unique];
        for (int k = 0; k < unique; k++)
        {
            points[k] = sorted[k].Hash;
            owners[k] = (int)(sorted[k].Order >> 32);
        }

        return (points, owners);
    }
}
