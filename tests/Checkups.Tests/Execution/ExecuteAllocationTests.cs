using System;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Execution;
using Checkups.Model;
using Checkups.Registry;
using Checkups.TestUtils;

namespace Checkups.Tests.Execution;

public sealed class ExecuteAllocationTests
{
    private const int Calls = 20_000;

    [Fact]
    public void ExecuteAsync_CallbackCompletingAsynchronously_AllocatesAtMost64BytesPerCallAboveTheCallback()
    {
        using var registry = Upstreams.Registry("api", Upstreams.Weighted(1, 2, 3));
        var source = new PendingCallback();
        for (int i = 0; i < 100; i++)
        {
            source.Execute(registry, "api");
        }

        // The callback allocates nothing itself and the call's continuation runs inline on this thread, so every byte
        // counted is the try loop's.
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Calls; i++)
        {
            source.Execute(registry, "api");
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        var server = registry.SelectPeer("api");
        before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Calls; i++)
        {
            source.CallbackAlone(server);
        }

        long callback = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated - callback <= 64L * Calls, $"{(allocated - callback) / (double)Calls:0.#} bytes per call above the callback's");
    }

    [Fact]
    public void ExecuteAsync_KeyedCallsSharingOneOptions_FollowTheKeyAndAllocateNothing()
    {
        var upstream = Upstreams.WithServers(Upstreams.Server(8001), Upstreams.Server(8002), Upstreams.Server(8003));
        upstream.Mode = BalancingModes.Hash;
        using var registry = Upstreams.Registry("api", upstream);
        var shared = new ExecuteOptions { Try = 2 };
        var keys = new string[64];
        var expected = new int[keys.Length];
        for (int k = 0; k < keys.Length; k++)
        {
            keys[k] = "user-" + k;
            expected[k] = registry.SelectPeer("api", keys[k]).Port;
        }

        // The key given to the call is the one balanced by, not the options' own.
        var other = new ExecuteOptions { HashKey = keys[1] };
        Assert.Equal(expected[0], Sync(registry.ExecuteAsync("api", keys[0], 0, Port, other)));

        for (int k = 0; k < keys.Length; k++)
        {
            Assert.Equal(expected[k], Sync(registry.ExecuteAsync("api", keys[k], 0, Port, shared)));
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Calls; i++)
        {
            Sync(registry.ExecuteAsync("api", keys[i & 63], 0, Port, shared));
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // Less than a byte per call: no call allocates (the smallest object is 24 bytes).
        Assert.True(allocated < Calls, $"{allocated} bytes for {Calls} keyed calls");
    }

    private static readonly Func<Server, int, CancellationToken, ValueTask<int>> Port = static (server, _, _) => new ValueTask<int>(server.Port);

    private static int Sync(ValueTask<int> call) =>
        call.IsCompletedSuccessfully ? call.Result : throw new InvalidOperationException("The call did not complete synchronously.");
}
