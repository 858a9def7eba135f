using System;
using System.Collections.Generic;
using Checkups.Hashing;
using Checkups.Model;

namespace Checkups.Balancing;

/// <summary>
/// A weighted Maglev lookup table (Eisenbud et al., NSDI 2016, with Envoy's weighting): a prime number M of slots, each
/// naming a server. Every server walks its own permutation of the slots (offset and skip from two hashes of
/// <c>host:port</c>) and takes the next free slot in its turn; a server of weight w takes a turn in w/max of the rounds,
/// so it ends with ≈ w/total of the slots. A key's slot is its 64-bit hash mapped onto [0, M) by multiply-shift.
/// Built once per cluster snapshot; lookups are O(1) and read-only.
/// </summary>
internal sealed class MaglevTable
{
    /// <summary>Slots per server at the least, so shares stay within a fraction of a percent of the weights.</summary>
    public const int MinSlotsPerServer = 100;

    /// <summary>The most servers a table can name: slots hold 16-bit server indexes, with one value kept for "empty".</summary>
    public const int MaxServers = ushort.MaxValue;

    private const ushort Empty = ushort.MaxValue;
    private const ulong OffsetSeed = 0x6D61676C65760001UL;
    private const ulong SkipSeed = 0x6D61676C65760002UL;

    /// <summary>
    /// The default sizes: the first primes above 100,000 × 2^k. A cluster keeps its size while its server count stays within
    /// one step (a different size remaps nearly every key), so the steps are few and far apart.
    /// </summary>
    private static readonly int[] Ladder = { 100003, 200003, 400009, 800011, 1600033, 3200003, 6400013, 12800009 };

    private readonly ushort[] _slots;

    private MaglevTable(ushort[] slots) => _slots = slots;

    /// <summary>
    /// The default size for <paramref name="servers"/> servers: 100003 for up to 1000 servers, then the next step of the
    /// ladder that keeps 100 slots per server. Churn when a server leaves falls as slots per server grow (with 100 servers:
    /// 655 slots each move 1.52 × the ideal share of keys, 1000 slots 1.41 ×, 1310 slots 1.38 ×), while the build time
    /// grows with the table (1000 servers: about 3 ms at 100003 slots, 4 ms at 131071).
    /// </summary>
    public static int SizeFor(int servers)
    {
        foreach (int size in Ladder)
        {
            if ((long)servers * MinSlotsPerServer <= size)
            {
                return size;
            }
        }

        return Ladder[^1];
    }

    /// <summary>Gets the number of slots (a prime).</summary>
    public int Length => _slots.Length;

    /// <summary>Gets the server index held by a slot.</summary>
    public int this[int slot] => _slots[slot];

    /// <summary>Maps a key hash onto a slot.</summary>
    public int SlotOf(ulong hash) => (int)(((hash >> 32) * (ulong)(uint)_slots.Length) >> 32);

    public static MaglevTable Build(IReadOnlyList<Server> servers, int size)
    {
        int n = servers.Count;
        if (n > MaxServers)
        {
            throw new ArgumentOutOfRangeException(nameof(servers), n, "A Maglev table names at most 65535 servers.");
        }

        // 16-bit slots halve the table (256 KiB at the default size): the build's random probes and the lookups stay in cache.
        var slots = new ushort[size];
        slots.AsSpan().Fill(Empty);
        var position = new long[n];
        var skip = new long[n];
        var weight = new long[n];
        var turnAt = new long[n];
        long maxWeight = 1;
        for (int i = 0; i < n; i++)
        {
            var key = servers[i].Key.AsSpan();
            position[i] = (long)(StableHash.XxHash64(key, OffsetSeed) % (ulong)size);
            skip[i] = (long)(StableHash.XxHash64(key, SkipSeed) % (ulong)(size - 1)) + 1;
            weight[i] = servers[i].Weight;
            maxWeight = Math.Max(maxWeight, weight[i]);
        }

        int filled = 0;
        for (long round = 1; filled < size; round++)
        {
            for (int i = 0; i < n && filled < size; i++)
            {
                // A server of the largest weight takes a turn every round; one of a third of it, every third round.
                if (round * weight[i] < turnAt[i])
                {
                    continue;
                }

                turnAt[i] += maxWeight;
                long c = position[i];
                while (slots[c] != Empty)
                {
                    c += skip[i];
                    if (c >= size)
                    {
                        c -= size;
                    }
                }

                slots[c] = (ushort)i;
                c += skip[i];
                position[i] = c >= size ? c - size : c;
                filled++;
            }
        }

        return new MaglevTable(slots);
    }

    public static bool IsPrime(long value)
    {
        if (value < 2)
        {
            return false;
        }

        if (value % 2 == 0)
        {
            return value == 2;
        }

        for (long d = 3; d * d <= value; d += 2)
        {
            if (value % d == 0)
            {
                return false;
            }
        }

        return true;
    }

}
