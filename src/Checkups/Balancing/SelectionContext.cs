namespace Checkups.Balancing;

/// <summary>What one call tells the selector: the hash key, and the servers of the current cluster already tried.</summary>
internal struct SelectionContext
{
    public SelectionContext(string? hashKey)
    {
        HashKey = hashKey;
        Tried = default;
    }

    /// <summary>Gets the caller's hash key, for hashing modes.</summary>
    public string? HashKey { get; }

    /// <summary>The servers of the current cluster that failed in this call, by index.</summary>
    public TriedPeers Tried;
}

/// <summary>
/// A set of peer indexes inside one cluster. The first 64 live in a word, so the common case allocates nothing;
/// larger clusters spill into an array, allocated only when such an index is first added.
/// </summary>
internal struct TriedPeers
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
