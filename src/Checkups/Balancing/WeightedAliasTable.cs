using System;
using System.Collections.Generic;
using Checkups.Model;

namespace Checkups.Balancing;

/// <summary>
/// Draws a server with probability proportional to its weight in O(1): Vose's alias method, in integers, so the
/// proportions are exact. Built once per snapshot over the up that are not administratively down.
/// </summary>
internal sealed class WeightedAliasTable
{
    private readonly int[] _servers;
    private readonly long[] _threshold;
    private readonly int[] _alias;
    private readonly long _bucket;

    public WeightedAliasTable(Server[] servers)
    {
        var up = new List<int>(servers.Length);
        long total = 0;
        for (int i = 0; i < servers.Length; i++)
        {
            if (!servers[i].Down)
            {
                up.Add(i);
                total += servers[i].Weight;
            }
        }

        _servers = up.ToArray();
        int n = _servers.Length;
        _threshold = new long[n];
        _alias = new int[n];
        _bucket = total;
        if (n == 0)
        {
            return;
        }

        // Each of the n buckets holds `total` units; server k brings weight × n units. Buckets under-full take the rest
        // of their capacity from one over-full server (their alias).
        var scaled = new long[n];
        var small = new Stack<int>();
        var large = new Stack<int>();
        for (int k = 0; k < n; k++)
        {
            scaled[k] = (long)servers[_servers[k]].Weight * n;
            (scaled[k] < total ? small : large).Push(k);
        }

        while (small.Count > 0 && large.Count > 0)
        {
            int less = small.Pop();
            int more = large.Pop();
            _threshold[less] = scaled[less];
            _alias[less] = more;
            scaled[more] -= total - scaled[less];
            (scaled[more] < total ? small : large).Push(more);
        }

        while (large.Count > 0)
        {
            int full = large.Pop();
            _threshold[full] = total;
            _alias[full] = full;
        }

        while (small.Count > 0)
        {
            // Only rounding could leave one here; with integers it is exactly full.
            int full = small.Pop();
            _threshold[full] = total;
            _alias[full] = full;
        }
    }

    /// <summary>Gets how many up the table draws from.</summary>
    public int Count => _servers.Length;

    /// <summary>Draws the index (into the servers the table was built from) of one server; needs <see cref="Count"/> &gt; 0.</summary>
    public int Draw(RandomSource random)
    {
        // One random draw read as a fixed-point fraction: its high part (× n) picks the bucket, what is left (× capacity)
        // the point in it. No division, and a bias below 2^-40, far under any weight's share.
        ulong fraction = (ulong)random.NextInt64() << 1;
        ulong bucket = Math.BigMul(fraction, (ulong)_servers.Length, out ulong rest);
        ulong point = Math.BigMul(rest, (ulong)_bucket, out _);
        int index = (int)bucket;
        return _servers[(long)point < _threshold[index] ? index : _alias[index]];
    }

    /// <summary>Gets how many equally likely outcomes a draw chooses among.</summary>
    internal long Span => _servers.Length * _bucket;

    /// <summary>The server outcome <paramref name="r"/> (0 to <see cref="Span"/> − 1) stands for: each server owns weight × n of them.</summary>
    internal int DrawAt(long r)
    {
        int bucket = (int)(r / _bucket);
        return _servers[r % _bucket < _threshold[bucket] ? bucket : _alias[bucket]];
    }
}
