using BenchmarkDotNet.Attributes;
using Checkups.Configuration;
using Checkups.Model;
using Checkups.Registry;

namespace Checkups.Benchmarks;

/// <summary>One power-of-two-choices pick through the public entry point, at a small and a large cluster size.</summary>
[MemoryDiagnoser]
public class PowerOfTwoChoicesBenchmarks
{
    private UpstreamRegistry _registry = null!;

    [Params(10, 10_000)]
    public int Servers { get; set; }

    [GlobalSetup]
    public void Setup() => _registry = Fixtures.Registry(Servers, mode: BalancingModes.PowerOfTwoChoices);

    [GlobalCleanup]
    public void Cleanup() => _registry.Dispose();

    [Benchmark]
    public Server SelectPeer() => _registry.SelectPeer(Fixtures.Upstream);
}
