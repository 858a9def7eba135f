using System;
using System.Collections.Immutable;
using BenchmarkDotNet.Attributes;
using Checkups.Balancing;
using Checkups.Configuration;
using Checkups.Model;
using Checkups.Registry;

namespace Checkups.Benchmarks;

/// <summary>A consistent-hash pick through the public entry point: 100 servers, 16-byte keys, hashing included.</summary>
[MemoryDiagnoser]
public class HashLookupBenchmarks
{
    private UpstreamRegistry _registry = null!;
    private byte[][] _keys = null!;
    private int _next;

    [Params(HashAlgorithms.Maglev, HashAlgorithms.Ketama)]
    public string Algorithm { get; set; } = HashAlgorithms.Maglev;

    [GlobalSetup]
    public void Setup()
    {
        _registry = Placement.Registry(Placement.Servers(100), Algorithm);
        _keys = new byte[1024][];
        for (int i = 0; i < _keys.Length; i++)
        {
            _keys[i] = System.Text.Encoding.ASCII.GetBytes($"session-{i:D8}");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _registry.Dispose();

    [Benchmark]
    public Server SelectPeerByKey() => _registry.SelectPeer(Placement.Upstream, _keys[_next++ & 1023].AsSpan());
}

/// <summary>Building the weighted Maglev table (default size) for a cluster.</summary>
[MemoryDiagnoser]
public class MaglevBuildBenchmarks
{
    private UpstreamRegistry _registry = null!;
    private ImmutableArray<Server> _servers;

    [Params(100, 1000)]
    public int Servers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _registry = Placement.Registry(Placement.Servers(Servers), HashAlgorithms.Maglev);
        _servers = _registry.Get(Placement.Upstream).Clusters[0].Servers;
    }

    [GlobalCleanup]
    public void Cleanup() => _registry.Dispose();

    [Benchmark]
    public int Build() => MaglevTable.Build(_servers, MaglevTable.SizeFor(Servers)).Length;
}
