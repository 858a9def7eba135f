using System;
using System.Buffers;
using System.Text;

namespace Checkups.Hashing;

/// <summary>
/// The one door to the hash functions Checkups depends on for stable placement (they must never change between versions
/// or processes): CRC-32 (IEEE, as nginx's <c>ngx_crc32_long</c>) and XXH64, both from <c>System.IO.Hashing</c>. Text keys
/// are hashed as UTF-8 without allocating.
/// </summary>
internal static class StableHash
{
    private const int StackLimit = 512;

    private const ulong Prime2 = 0xC2B2AE3D27D4EB4FUL;
    private const ulong Prime3 = 0x165667B19E3779F9UL;

    public static uint Crc32(ReadOnlySpan<byte> data) => System.IO.Hashing.Crc32.HashToUInt32(data);

    public static uint Crc32(ReadOnlySpan<char> text)
    {
        byte[]? rented = null;
        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        Span<byte> buffer = max <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(max));
        int written = Encoding.UTF8.GetBytes(text, buffer);
        uint hash = System.IO.Hashing.Crc32.HashToUInt32(buffer[..written]);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return hash;
    }

    public static ulong XxHash64(ReadOnlySpan<byte> data, ulong seed = 0) => System.IO.Hashing.XxHash64.HashToUInt64(data, unchecked((long)seed));

    public static ulong XxHash64(ReadOnlySpan<char> text, ulong seed = 0)
    {
        byte[]? rented = null;
        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        Span<byte> buffer = max <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(max));
        int written = Encoding.UTF8.GetBytes(text, buffer);
        ulong hash = System.IO.Hashing.XxHash64.HashToUInt64(buffer[..written], unchecked((long)seed));
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return hash;
    }

    /// <summary>
    /// Mixes a 64-bit value (for example a hash plus a probe number) into a well-spread 64-bit value: XXH64's final
    /// avalanche, which System.IO.Hashing does not expose on its own.
    /// </summary>
    public static ulong Mix(ulong value)
    {
        value ^= value >> 33;
        value *= Prime2;
        value ^= value >> 29;
        value *= Prime3;
        value ^= value >> 32;
        return value;
    }
}
