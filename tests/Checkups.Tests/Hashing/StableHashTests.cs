using System;
using System.Text;
using Checkups.Hashing;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Checkups.Tests.Hashing;

public sealed class StableHashTests
{
    private const ulong Prime32 = 2654435761UL;

    /// <summary>xxHash's sanity buffer (cli/xsum_sanity_check.c): byte i is the top byte of PRIME32 × PRIME64^i.</summary>
    private static byte[] SanityBuffer(int length)
    {
        var buffer = new byte[length];
        ulong generator = Prime32;
        for (int i = 0; i < length; i++)
        {
            buffer[i] = (byte)(generator >> 56);
            generator *= 11400714785074694797UL;
        }

        return buffer;
    }

    [Theory]
    [InlineData(0, 0UL, 0xEF46DB3751D8E999UL)]
    [InlineData(0, Prime32, 0xAC75FDA2929B17EFUL)]
    [InlineData(1, 0UL, 0xE934A84ADB052768UL)]
    [InlineData(1, Prime32, 0x5014607643A9B4C3UL)]
    [InlineData(4, 0UL, 0x9136A0DCA57457EEUL)]
    [InlineData(14, 0UL, 0x8282DCC4994E35C8UL)]
    [InlineData(14, Prime32, 0xC3BD6BF63DEB6DF0UL)]
    [InlineData(222, 0UL, 0xB641AE8CB691C174UL)]
    [InlineData(222, Prime32, 0x20CB8AB7AE10C14AUL)]
    public void XxHash64_XxHashSanityVectors_Match(int length, ulong seed, ulong expected) =>
        Assert.Equal(expected, StableHash.XxHash64(SanityBuffer(length), seed));

    [Theory]
    [InlineData("", 0UL, 0xEF46DB3751D8E999UL)]
    [InlineData("abc", 0UL, 0x44BC2CF5AD770999UL)]
    [InlineData("ABC", 0UL, 0xE66AE7354FCFEE98UL)]
    [InlineData("xxhash", 0UL, 0x32DD38952C4BC720UL)]
    [InlineData("", 0x1234567890ABCDEFUL, 0xA2F5C44D0F46C872UL)]
    public void XxHash64_PublishedStringVectors_Match(string text, ulong seed, ulong expected)
    {
        Assert.Equal(expected, StableHash.XxHash64(Encoding.ASCII.GetBytes(text), seed));
        Assert.Equal(expected, StableHash.XxHash64(text.AsSpan(), seed));
    }

    [Theory]
    [InlineData("", 0x00000000u)]
    [InlineData("a", 0xE8B7BE43u)]
    [InlineData("123456789", 0xCBF43926u)]
    [InlineData("The quick brown fox jumps over the lazy dog", 0x414FA339u)]
    public void Crc32_PublishedVectors_Match(string text, uint expected)
    {
        Assert.Equal(expected, StableHash.Crc32(Encoding.ASCII.GetBytes(text)));
        Assert.Equal(expected, StableHash.Crc32(text.AsSpan()));
    }

    [Fact]
    public void TextKeys_LongerThanStackBuffer_HashLikeTheirUtf8Bytes()
    {
        string text = new string('é', 700) + "ключ";
        byte[] utf8 = Encoding.UTF8.GetBytes(text);

        Assert.Equal(StableHash.XxHash64(utf8), StableHash.XxHash64(text.AsSpan()));
        Assert.Equal(StableHash.Crc32(utf8), StableHash.Crc32(text.AsSpan()));
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(Prime32)]
    [InlineData(0x1234567890ABCDEFUL)]
    public void Mix_IsXxHash64sFinalAvalanche(ulong seed)
    {
        // XXH64 of nothing is the avalanche of seed + PRIME64_5: the mixer Maglev's probing uses is that avalanche.
        const ulong Prime5 = 0x27D4EB2F165667C5UL;
        Assert.Equal(StableHash.XxHash64(ReadOnlySpan<byte>.Empty, seed), StableHash.Mix(unchecked(seed + Prime5)));
    }
}
