using BenchmarkDotNet.Attributes;
using Checkups.Model;
using Checkups.Registry;

namespace Checkups.Benchmarks;

/// <summary>One smooth WRR pick through the public entry point (upstream lookup included).</summary>
[MemoryDiagnoser]
public class WeightedRoundRobinBenchmarks
{
    private UpstreamRegistry _registry = null!;

    [Params(4, 10, 100, 10_000)]
    public int Servers { get; set; }

    /// <summary>Gets or sets whether 1 % of the servers (at least one) are <c>err</c>.</summary>
    [Params(false, true)]
    public bool SomeErr { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _registry = Fixtures.Registry(Servers, weight: static i => 1 + (i % 100));
        if (SomeErr)
        {
            Fixtures.MarkErr(_registry, Servers, System.Math.Min(100, Servers));
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _registry.Dispose();

    [Benchmark]
    public Server SelectPeer() => _registry.SelectPeer(Fixtures.Upstream);
}
