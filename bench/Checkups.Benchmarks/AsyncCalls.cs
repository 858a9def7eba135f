using System;
using System.Threading;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;
using Checkups.Model;
using Checkups.Registry;

namespace Checkups.Benchmarks;

/// <summary>
/// A try-loop call whose callback completes asynchronously, measured on one thread: the callback returns a pending
/// <see cref="ValueTask{TResult}"/> from a reusable source (so it allocates nothing itself), the measurement completes it,
/// and the call's continuation runs inline. What is allocated is the try loop's own cost of going asynchronous.
/// </summary>
internal sealed class AsyncCalls : IValueTaskSource<int>
{
    private static readonly Func<Server, AsyncCalls, CancellationToken, ValueTask<int>> Callback =
        static (server, calls, _) => calls.Start(server);

    private ManualResetValueTaskSourceCore<int> _core;
    private int _port;

    /// <summary>One <c>ExecuteAsync</c> whose callback completes after the call has returned.</summary>
    public int Execute(UpstreamRegistry registry)
    {
        var call = registry.ExecuteAsync(Fixtures.Upstream, this, Callback);
        if (call.IsCompleted)
        {
            throw new InvalidOperationException("The call completed synchronously.");
        }

        _core.SetResult(_port);
        return call.IsCompleted ? call.GetAwaiter().GetResult() : throw new InvalidOperationException("The call did not complete with its callback.");
    }

    /// <summary>The callback alone, completed the same way: the baseline subtracted from <see cref="Execute"/>.</summary>
    public int CallbackAlone(Server server)
    {
        var pending = Callback(server, this, CancellationToken.None);
        _core.SetResult(_port);
        return pending.IsCompleted ? pending.GetAwaiter().GetResult() : throw new InvalidOperationException("The callback did not complete.");
    }

    int IValueTaskSource<int>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private ValueTask<int> Start(Server server)
    {
        _core.Reset();
        _port = server.Port;
        return new ValueTask<int>(this, _core.Version);
    }
}
