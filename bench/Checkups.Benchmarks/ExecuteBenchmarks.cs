using BenchmarkDotNet.Attributes;
using Checkups.Registry;

namespace Checkups.Benchmarks;

/// <summary>Whole try-loop calls whose callback completes synchronously or asynchronously with a success, and a lease.</summary>
[MemoryDiagnoser]
public class ExecuteBenchmarks
{
    private readonly Checkups.TestUtils.PendingCallback _calls = new();
    private UpstreamRegistry _registry = null!;

    [GlobalSetup]
    public void Setup() => _registry = Fixtures.Registry(10);

    [GlobalCleanup]
    public void Cleanup() => _registry.Dispose();

    [Benchmark]
    public int ExecuteAsyncSynchronousCallback() =>
        Fixtures.ExecuteSynchronously(_registry);

    [Benchmark]
    public int ExecuteAsyncAsynchronousCallback() =>
        _calls.Execute(_registry, Fixtures.Upstream);

    [Benchmark]
    public Model.Server AcquireAndCompleteLease() =>
        Leasing.AcquireAndComplete(_registry);

    [Benchmark(Baseline = true)]
    public Model.Server SelectPeer() =>
        _registry.SelectPeer(Fixtures.Upstream);
}
