using BenchmarkDotNet.Attributes;
using Checkups.Model;
using Checkups.Registry;

namespace Checkups.Benchmarks;

/// <summary>One smooth WRR pick through the public entry point (upstream lookup included).</summary>
[MemoryDiagnoser]
public class WeightedRoundRobinBenchmarks
{
    private UpstreamRegistry _registry = null!;

    [Params(4, 10, 100)]
    public int Servers { get; set; }

    [Params(false, true)]
    public bool Stepped { get; set; }

    [GlobalSetup]
    public void Setup() => _registry = Fixtures.Registry(Servers, Stepped);

    [GlobalCleanup]
    public void Cleanup() => _registry.Dispose();

    [Benchmark]
    public Server SelectPeer() => _registry.SelectPeer(Fixtures.Upstream);
}
