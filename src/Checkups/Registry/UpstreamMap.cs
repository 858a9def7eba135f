using System;
using System.Collections.Frozen;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Threading;
using Checkups.Model;

namespace Checkups.Registry;

/// <summary>
/// The upstreams by name (case-insensitive), immutable. A frozen base, the fastest map to read, plus a small overlay of the
/// changes since the base was frozen: a change copies only the overlay, so it costs O(changes), not O(upstreams), and the
/// store folds the overlay into a new base off the caller's path (<see cref="Compacted"/>). Without an overlay a lookup is
/// one frozen-map read.
/// </summary>
internal sealed class UpstreamMap
{
    /// <summary>Changes an overlay holds before the writer folds them in itself instead of leaving it to compaction.</summary>
    internal const int MaxOverlay = 1024;

    private readonly FrozenDictionary<string, Upstream> _base;

    // A null value marks a removal. Never changed once the map is published, so reads need no lock.
    private readonly Dictionary<string, Upstream?>? _overlay;
    private IReadOnlyCollection<Upstream>? _values;

    private UpstreamMap(FrozenDictionary<string, Upstream> frozen, Dictionary<string, Upstream?>? overlay)
    {
        _base = frozen;
        _overlay = overlay;
    }

    public static UpstreamMap Empty { get; } = new(FrozenDictionary<string, Upstream>.Empty, null);

    /// <summary>Gets whether changes wait to be folded into the base.</summary>
    public bool HasOverlay => _overlay is not null;

    /// <summary>Gets every upstream, in no particular order.</summary>
    public IReadOnlyCollection<Upstream> Values
    {
        get
        {
            if (_overlay is null)
            {
                return _base.Values;
            }

            var values = Volatile.Read(ref _values);
            if (values is null)
            {
                var list = new List<Upstream>(_base.Count + _overlay.Count);
                foreach (var (name, upstream) in _base)
                {
                    if (!_overlay.ContainsKey(name))
                    {
                        list.Add(upstream);
                    }
                }

                foreach (var upstream in _overlay.Values)
                {
                    if (upstream is not null)
                    {
                        list.Add(upstream);
                    }
                }

                // Read-only: GetAll hands this out, and nothing a caller does may change the map.
                values = list.AsReadOnly();
                Volatile.Write(ref _values, values);
            }

            return values;
        }
    }

    public bool TryGetValue(string name, [NotNullWhen(true)] out Upstream? upstream) =>
        Find(name, out upstream)

        // Names are kept in normalization form C: a lookup spelled otherwise (decomposed "café") finds the same upstream.
        // Only a miss pays for the check, so lookups of names as they are kept cost nothing more.
        || (UpstreamName.MayBeSpelledOtherwise(name) && Find(UpstreamName.Normalize(name), out upstream));

    private bool Find(string name, [NotNullWhen(true)] out Upstream? upstream)
    {
        if (_overlay is not null && _overlay.TryGetValue(name, out upstream))
        {
            return upstream is not null;
        }

        return _base.TryGetValue(name, out upstream);
    }

    public Upstream? GetValueOrDefault(string name) => TryGetValue(name, out var upstream) ? upstream : null;

    /// <summary>A map with <paramref name="updated"/> added or replaced and <paramref name="removed"/> gone.</summary>
    public UpstreamMap With(IReadOnlyList<Upstream> updated, IReadOnlyList<string> removed)
    {
        var overlay = _overlay is null
            ? new Dictionary<string, Upstream?>(StringComparer.OrdinalIgnoreCase)
            : new Dictionary<string, Upstream?>(_overlay, StringComparer.OrdinalIgnoreCase);
        foreach (var upstream in updated)
        {
            overlay[upstream.Name] = upstream;
        }

        foreach (string name in removed)
        {
            overlay[name] = null;
        }

        var next = new UpstreamMap(_base, overlay);
        return overlay.Count > MaxOverlay ? next.Compacted() : next;
    }

    /// <summary>The same upstreams in one frozen base, without an overlay.</summary>
    public UpstreamMap Compacted()
    {
        if (_overlay is null)
        {
            return this;
        }

        var all = new Dictionary<string, Upstream>(_base, StringComparer.OrdinalIgnoreCase);
        foreach (var (name, upstream) in _overlay)
        {
            if (upstream is null)
            {
                all.Remove(name);
            }
            else
            {
                all[name] = upstream;
            }
        }

        return new UpstreamMap(all.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase), null);
    }
}
