using System;
using System.Buffers;

namespace Checkups.Configuration;

/// <summary>
/// A growable byte buffer on <see cref="ArrayPool{T}.Shared"/>: the JSON of a 10,000-server upstream (about a megabyte)
/// written and read again without a large-object-heap array per copy, which would bring on a full collection. Arrays go
/// back cleared: the JSON may hold a probe's password.
/// </summary>
internal sealed class PooledBuffer : IBufferWriter<byte>, IDisposable
{
    private byte[] _array;
    private int _written;

    public PooledBuffer(int initialSize = 4096) => _array = ArrayPool<byte>.Shared.Rent(initialSize);

    /// <summary>Gets the bytes written so far.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _array.AsSpan(0, _written);

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_written > _array.Length - count)
        {
            throw new InvalidOperationException("Advanced past the end of the buffer.");
        }

        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Grow(sizeHint);
        return _array.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Grow(sizeHint);
        return _array.AsSpan(_written);
    }

    public void Dispose()
    {
        var array = _array;
        _array = Array.Empty<byte>();
        _written = 0;
        if (array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(array, clearArray: true);
        }
    }

    private void Grow(int sizeHint)
    {
        int needed = Math.Max(sizeHint, 1);
        if (_array.Length - _written >= needed)
        {
            return;
        }

        var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_array.Length * 2, _written + needed));
        _array.AsSpan(0, _written).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_array, clearArray: true);
        _array = larger;
    }
}
