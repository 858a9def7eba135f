using System;
using System.Collections.Generic;
using System.Text;

namespace Checkups.Benchmarks;

/// <summary>
/// The seed library's (lua-resty-checkups') consistent-hash ring, re-implemented here only as a baseline: key hash
/// h = h × 31 + byte (mod 2^32); each server gets 20 × (sum of all weights) points at (base × c × 13) mod 2^32 for
/// c = 1..count, base being the hash of "host:port"; a key goes to the first point at or above its hash, wrapping.
/// </summary>
internal sealed class SeedRing
{
    private readonly uint[] _points;
    private readonly int[] _owners;

    public SeedRing(IReadOnlyList<(string Key, int Weight)> servers)
    {
        long totalWeight = 0;
        foreach (var server in servers)
        {
            totalWeight += server.Weight;
        }

        long perServer = 20 * totalWeight;
        var points = new List<(uint Point, int Owner)>((int)(perServer * servers.Count));
        for (int i = 0; i < servers.Count; i++)
        {
            uint baseHash = Hash(Encoding.ASCII.GetBytes(servers[i].Key));
            for (long c = 1; c <= perServer; c++)
            {
                points.Add((unchecked((uint)(baseHash * (ulong)c * 13)), i));
            }
        }

        points.Sort(static (a, b) => a.Point.CompareTo(b.Point));
        _points = new uint[points.Count];
        _owners = new int[points.Count];
        for (int k = 0; k < points.Count; k++)
        {
            (_points[k], _owners[k]) = points[k];
        }
    }

    public static uint Hash(ReadOnlySpan<byte> key)
    {
        uint h = 0;
        foreach (byte b in key)
        {
            h = unchecked((h * 31) + b);
        }

        return h;
    }

    public int Lookup(ReadOnlySpan<byte> key)
    {
        int index = Array.BinarySearch(_points, Hash(key));
        if (index < 0)
        {
            index = ~index;
        }

        return _owners[index == _points.Length ? 0 : index];
    }
}
