using System;
using System.Threading;

namespace Checkups.Execution;

/// <summary>
/// The one object pool of the package (leases' guards, calls, attempt timers): a few slots taken and given back by
/// compare-and-swap, and, for pools that are one per process, one object cached per thread, so that a call taken and
/// given back on the same thread costs no interlocked operation. A pool that is full drops what is given back.
/// </summary>
/// <typeparam name="T">The pooled type.</typeparam>
internal sealed class ObjectPool<T>
    where T : class
{
    // One per closed type: only the pool made with a thread cache uses it (see the constructor).
    [ThreadStatic]
    private static T? t_cached;

    private readonly Func<T> _create;
    private readonly Func<T, bool>? _reset;
    private readonly T?[] _slots;
    private readonly bool _threadCache;

    /// <summary>Initializes a pool.</summary>
    /// <param name="create">Makes a new object when the pool is empty.</param>
    /// <param name="reset">Readies an object given back; <see langword="false"/> drops it (it is disposed if it can be).</param>
    /// <param name="threadCache">Whether to keep one object per thread: only for the one pool of its type in the process.</param>
    public ObjectPool(Func<T> create, Func<T, bool>? reset = null, bool threadCache = false)
    {
        _create = create;
        _reset = reset;
        _threadCache = threadCache;
        _slots = new T?[Math.Max(16, Environment.ProcessorCount * 4)];
    }

    public T Rent()
    {
        if (_threadCache && t_cached is { } cached)
        {
            t_cached = null;
            return cached;
        }

        int start = Environment.CurrentManagedThreadId % _slots.Length;
        for (int i = 0; i < _slots.Length; i++)
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

        if (_threadCache && t_cached is null)
        {
            t_cached = item;
            return;
        }

        int start = Environment.CurrentManagedThreadId % _slots.Length;
        for (int i = 0; i < _slots.Length; i++)
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
