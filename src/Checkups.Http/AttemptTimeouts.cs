using System;
using System.Threading;

namespace Checkups.Http;

/// <summary>
/// The cancellation sources of attempt timeouts, reused: a source whose attempt ended without cancellation is reset
/// (its timer stopped, kept for the next <see cref="CancellationTokenSource.CancelAfter(TimeSpan)"/>) and handed to the
/// next attempt, so an attempt costs no source and no timer once the pool is warm. The caller's token reaches the
/// source through one registration instead of a linked source.
/// </summary>
internal sealed class AttemptTimeouts
{
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource?[] _pool = new CancellationTokenSource?[Math.Max(8, Environment.ProcessorCount * 2)];

    public AttemptTimeouts(TimeProvider time) => _time = time;

    /// <summary>A source that cancels after <paramref name="timeout"/> on the handler's clock.</summary>
    public CancellationTokenSource Rent(TimeSpan timeout)
    {
        int start = Environment.CurrentManagedThreadId % _pool.Length;
        for (int i = 0; i < _pool.Length; i++)
        {
            int slot = (start + i) % _pool.Length;
            if (Volatile.Read(ref _pool[slot]) is not null && Interlocked.Exchange(ref _pool[slot], null) is { } pooled)
            {
                pooled.CancelAfter(timeout);
                return pooled;
            }
        }

        var fresh = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time);
        fresh.CancelAfter(timeout);
        return fresh;
    }

    /// <summary>Takes a source back after its attempt: kept when it can be reset (not cancelled, timer stopped), disposed otherwise.</summary>
    public void Return(CancellationTokenSource source)
    {
        if (source.TryReset())
        {
            int start = Environment.CurrentManagedThreadId % _pool.Length;
            for (int i = 0; i < _pool.Length; i++)
            {
                int slot = (start + i) % _pool.Length;
                if (Interlocked.CompareExchange(ref _pool[slot], source, null) is null)
                {
                    return;
                }
            }
        }

        source.Dispose();
    }
}
