using System;
using System.Threading;

namespace Checkups.Execution;

/// <summary>
/// The one object pool of the package (leases' guards, calls, attempt timers): a few slots taken and given back by
/// compare-and-swap. A pool that is full drops what is given back. The pooled types that are taken on every call (a
/// lease's guard, a call) also keep one object per thread in a thread-static field of their own, in front of the pool,
/// so a call taken and given back on one thread costs no interlocked operation (a thread-static field of a generic type
/// costs a lookup per access, which is why that cache is not here).
/// </summary>
/// <typeparam name="T">The pooled type.</typeparam>
internal sealed class ObjectPool<T>
    where T : class
{
    private readonly Func<T> _create;
    private readonly Func<T, bool>? _reset;
    // The slots one rent or return looks at, from the thread's own: all of them on a small machine; on a large one a
    // miss costs this many reads, not thousands (32 timer slots per processor is 2,048 on 64 cores).
    private const int MaxProbes = 64;

    private readonly T?[] _slots;
    private readonly int _probes;

    /// <summary>Initializes a pool.</summary>
    /// <param name="create">Makes a new object when the pool is empty.</param>
    /// <param name="reset">Readies an object given back; <see langword="false"/> drops it (it is disposed if it can be).</param>
    /// <param name="perProcessor">Slots per processor (at least 16 in all): as many as the objects out at once, or the pool drops and makes them anew.</param>
    public ObjectPool(Func<T> create, Func<T, bool>? reset = null, int perProcessor = 4)
    {
        _create = create;
        _reset = reset;
        _slots = new T?[Math.Max(16, Environment.ProcessorCount * perProcessor)];
        _probes = Math.Min(_slots.Length, MaxProbes);
    }

    public T Rent()
    {
        int start = Environment.CurrentManagedThreadId % _slots.Length;
        for (int i = 0; i < _probes; i++)
        {
            int slot = (start + i) % _slots.Length;
            if (Volatile.Read(ref _slots[slot]) is { } item && Interlocked.CompareExchange(ref _slots[slot], null, item) == item)
            {
                return item;
            }
        }

        return _create();
    }

    public void Return(T item)
    {
        if (_reset is not null && !_reset(item))
        {
            (item as IDisposable)?.Dispose();
            return;
        }

        int start = Environment.CurrentManagedThreadId % _slots.Length;
        for (int i = 0; i < _probes; i++)
        {
            int slot = (start + i) % _slots.Length;
            if (Volatile.Read(ref _slots[slot]) is null && Interlocked.CompareExchange(ref _slots[slot], item, null) is null)
            {
                return;
            }
        }

        (item as IDisposable)?.Dispose();
    }
}
