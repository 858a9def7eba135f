using System;
using Checkups.Hashing;
using Checkups.Model;

namespace Checkups.Balancing;

/// <summary>What one call tells the selector: its key's hash, and the servers of the current cluster it already tried.</summary>
public struct SelectionContext
{
    /// <summary>The servers of the current cluster that failed in this call, by index.</summary>
    internal TriedServers Tried;

    private SelectionContext(bool hasKey, ulong keyHash)
    {
        HasKey = hasKey;
        KeyHash = keyHash;
        Tried = default;
    }

    /// <summary>Gets whether the call has a hash key (an empty key is none: round robin, as nginx does).</summary>
    public readonly bool HasKey { get; }

    /// <summary>
    /// Gets the key's hash, computed once per call with the function the upstream's mode needs: XXH64 of the key's UTF-8
    /// bytes for a mode of your own that uses keys (<see cref="BalancingMode.UsesHashKey"/>).
    /// </summary>
    public readonly ulong KeyHash { get; }

    /// <summary>Gets whether <paramref name="server"/> (of the cluster being picked from) was already tried in this call.</summary>
    /// <param name="server">A server of the cluster.</param>
    /// <returns>Whether it was tried and failed in this call.</returns>
    public readonly bool IsTried(Server server)
    {
        ArgumentNullException.ThrowIfNull(server);
        return Tried.Contains(server.Index);
    }

    /// <summary>Gets whether no server of the cluster was tried yet in this call.</summary>
    public readonly bool NoneTried => Tried.IsEmpty;

    /// <summary>The context of a call with <paramref name="key"/>; an empty or missing key is no key (round robin, as nginx does).</summary>
    internal static SelectionContext For(Upstream upstream, string? key) =>
        key is null ? default : For(upstream, key.AsSpan());

    internal static SelectionContext For(Upstream upstream, ReadOnlySpan<char> key) => key.IsEmpty ? default : upstream.KeyHashing switch
    {
        KeyHashing.XxHash64 => new SelectionContext(true, StableHash.XxHash64(key)),
        KeyHashing.Crc32 => new SelectionContext(true, StableHash.Crc32(key)),
        _ => default,
    };

    internal static SelectionContext For(Upstream upstream, ReadOnlySpan<byte> key) => key.IsEmpty ? default : upstream.KeyHashing switch
    {
        KeyHashing.XxHash64 => new SelectionContext(true, StableHash.XxHash64(key)),
        KeyHashing.Crc32 => new SelectionContext(true, StableHash.Crc32(key)),
        _ => default,
    };
}

/// <summary>Which hash of the call's key an upstream's selectors read.</summary>
internal enum KeyHashing
{
    /// <summary>The mode does not use keys.</summary>
    None,

    /// <summary>XxHash64 of the key's UTF-8 bytes (the Maglev table).</summary>
    XxHash64,

    /// <summary>CRC-32 of the key's UTF-8 bytes, as nginx's <c>hash $key consistent</c> (ketama).</summary>
    Crc32,
}

/// <summary>
/// A set of server indexes inside one cluster. The first 64 live in a word, so the common case allocates nothing;
/// larger clusters spill into an array, allocated only when such an index is first added.
/// </summary>
internal struct TriedServers
{
    private ulong _low;
    private ulong[]? _high;

    public readonly bool IsEmpty => _low == 0 && _high is null;

    public readonly bool Contains(int index)
    {
        if (index < 64)
        {
            return (_low & (1UL << index)) != 0;
        }

        int word = (index >> 6) - 1;
        return _high is not null && word < _high.Length && (_high[word] & (1UL << (index & 63))) != 0;
    }

    public void Add(int index)
    {
        if (index < 64)
        {
            _low |= 1UL << index;
            return;
        }

        int word = (index >> 6) - 1;
        if (_high is null || word >= _high.Length)
        {
            var grown = new ulong[word + 1];
            _high?.CopyTo(grown, 0);
            _high = grown;
        }

        _high[word] |= 1UL << (index & 63);
    }

    public void Clear()
    {
        _low = 0;
        _high = null;
    }
}
