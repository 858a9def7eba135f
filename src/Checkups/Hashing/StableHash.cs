using System;
using System.Buffers;
using System.Text;

namespace Checkups.Hashing;

/// <summary>
/// The one door to the hash functions Checkups depends on for stable placement (they must never change between versions
/// or processes): CRC-32 and XxHash64, implemented here because System.IO.Hashing is not available to this package; the
/// package can replace the two implementations behind this type. Text keys are hashed as UTF-8 without allocating.
/// </summary>
internal static class StableHash
{
    private const int StackLimit = 512;

    public static uint Crc32(ReadOnlySpan<byte> data) => Hashing.Crc32.Hash(data);

    public static uint Crc32(ReadOnlySpan<char> text)
    {
        byte[]? rented = null;
        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        Span<byte> buffer = max <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(max));
        int written = Encoding.UTF8.GetBytes(text, buffer);
        uint hash = Hashing.Crc32.Hash(buffer[..written]);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return hash;
    }

    /// <summary>Continues an unfinalised CRC-32 state (start from <see cref="Hashing.Crc32.InitialState"/>).</summary>
    public static uint Crc32Append(uint state, ReadOnlySpan<byte> data) => Hashing.Crc32.Append(state, data);

    /// <summary>Applies CRC-32's final XOR to a running state.</summary>
    public static uint Crc32Finalize(uint state) => Hashing.Crc32.Finalize(state);

    public static ulong XxHash64(ReadOnlySpan<byte> data, ulong seed = 0) => Hashing.XxHash64.Hash(data, seed);

    public static ulong XxHash64(ReadOnlySpan<char> text, ulong seed = 0)
    {
        byte[]? rented = null;
        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        Span<byte> buffer = max <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(max));
        int written = Encoding.UTF8.GetBytes(text, buffer);
        ulong hash = Hashing.XxHash64.Hash(buffer[..written], seed);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return hash;
    }

    /// <summary>Mixes a 64-bit value (for example a hash plus a probe number) into a well-spread 64-bit value.</summary>
    public static ulong Mix(ulong value) => Hashing.XxHash64.Avalanche(value);
}
