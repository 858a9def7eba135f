using System;
using System.Collections.Generic;

namespace Checkups.Registry;

/// <summary>Describes one applied change of the registry.</summary>
public sealed class UpstreamsChangedEventArgs : EventArgs
{
    internal UpstreamsChangedEventArgs(long version, string source, IReadOnlyList<string> updated, IReadOnlyList<string> removed)
    {
        Version = version;
        Source = source;
        Updated = updated;
        Removed = removed;
    }

    /// <summary>Gets the registry version after the change.</summary>
    public long Version { get; }

    /// <summary>Gets the name of the source that made the change (the owner of what it changed).</summary>
    public string Source { get; }

    /// <summary>Gets the names of the upstreams added or replaced.</summary>
    public IReadOnlyList<string> Updated { get; }

    /// <summary>Gets the names of the upstreams removed.</summary>
    public IReadOnlyList<string> Removed { get; }
}
