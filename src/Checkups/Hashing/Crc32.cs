using System;

namespace Checkups.Hashing;

/// <summary>
/// CRC-32 (IEEE 802.3: polynomial 0x04C11DB7 reflected as 0xEDB88320, initial value and final XOR 0xFFFFFFFF), as zlib,
/// nginx and System.IO.Hashing compute it. <see cref="Append"/> continues an unfinalised state, which nginx's ketama
/// points need; <see cref="Finalize"/> applies the final XOR.
/// </summary>
internal static class Crc32
{
    public const uint InitialState = 0xFFFFFFFFu;

    private static readonly uint[] Table = BuildTable();

    public static uint Hash(ReadOnlySpan<byte> data) => Finalize(Append(InitialState, data));

    public static uint Append(uint state, ReadOnlySpan<byte> data)
    {
        var table = Table;
        foreach (byte b in data)
        {
            state = table[(state ^ b) & 0xFF] ^ (state >> 8);
        }

        return state;
    }

    public static uint Finalize(uint state) => state ^ 0xFFFFFFFFu;

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[i] = c;
        }

        return table;
    }
}
