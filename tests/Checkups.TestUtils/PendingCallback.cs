using System;
using System.Threading;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;
using Checkups.Model;
using Checkups.Registry;

namespace Checkups.TestUtils;

/// <summary>
/// A try-loop callback that completes after the call has returned, from a reusable source, so it allocates nothing
/// itself: <see cref="Execute"/> starts a call, completes the callback and reads the result, all on the calling thread
/// (the call's continuation runs inline). What such a call allocates is the try loop's own cost of going asynchronous.
/// Shared by the allocation tests and the bench.
/// </summary>
public sealed class PendingCallback : IValueTaskSource<int>
{
    private static readonly Func<Server, PendingCallback, CancellationToken, ValueTask<int>> Callback =
        static (server, source, _) => source.Start(server);

    private ManualResetValueTaskSourceCore<int> _core;
    private int _port;

    /// <summary>One <c>ExecuteAsync</c> on <paramref name="upstream"/>; returns the port of the server that served it.</summary>
    public int Execute(UpstreamRegistry registry, string upstream)
    {
        var call = registry.ExecuteAsync(upstream, this, Callback);
        if (call.IsCompleted)
        {
            throw new InvalidOperationException("The call completed before its callback did.");
        }

        _core.SetResult(_port);
        return call.IsCompletedSuccessfully ? call.Result : throw new InvalidOperationException("The call did not complete with its callback.");
    }

    /// <summary>The callback alone, completed the same way: the baseline to subtract from <see cref="Execute"/>.</summary>
    public int CallbackAlone(Server server)
    {
        var pending = Callback(server, this, CancellationToken.None);
        _core.SetResult(_port);
        return pending.IsCompletedSuccessfully ? pending.Result : throw new InvalidOperationException("The callback did not complete.");
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
