using BenchmarkDotNet.Attributes;
using Checkups.Registry;

namespace Checkups.Benchmarks;

/// <summary>A whole try-loop call whose callback completes synchronously with a success.</summary>
[MemoryDiagnoser]
public class ExecuteBenchmarks
{
    private UpstreamRegistry _registry = null!;

    [GlobalSetup]
    public void Setup() => _registry = Fixtures.Registry(10);

    [GlobalCleanup]
    public void Cleanup() => _registry.Dispose();

    [Benchmark]
    public int ExecuteAsyncSynchronousCallback() =>
        Fixtures.ExecuteSynchronously(_registry);

    [Benchmark]
    public Model.Server AcquireAndCompleteLease() =>
        Leasing.AcquireAndComplete(_registry);

    [Benchmark(Baseline = true)]
    public Model.Server SelectPeer() =>
        _registry.SelectPeer(Fixtures.Upstream);
}
