using System;
using System.Threading;
using Checkups.Configuration;
using Checkups.Model;

namespace Checkups.Registry;

/// <summary>
/// A source that writes when it is told to, as the run-time API does, under a name of its own (the admin API is one): it
/// adds, replaces and deletes the upstreams it owns, each change validated whole and applied atomically, and is refused
/// an upstream another source owns. Get one from <see cref="UpstreamRegistry.AddWriter"/>.
/// </summary>
public sealed class UpstreamWriter : IDisposable
{
    private readonly UpstreamStore _store;
    private readonly Action<string> _release;
    private int _disposed;

    internal UpstreamWriter(UpstreamStore store, string sourceName, Action<string> release)
    {
        _store = store;
        SourceName = sourceName;
        _release = release;
    }

    /// <summary>Gets the source name this writer changes upstreams as (the owner shown in the status).</summary>
    public string SourceName { get; }

    /// <summary>Adds or replaces a whole upstream. The health of servers that stay (same host:port) is kept.</summary>
    /// <param name="name">The upstream name.</param>
    /// <param name="options">The upstream; validated whole and copied.</param>
    /// <exception cref="CheckupsValidationException">The options are invalid; nothing was changed.</exception>
    /// <exception cref="UpstreamOwnershipException">Another source owns the upstream.</exception>
    /// <exception cref="ObjectDisposedException">The writer was disposed.</exception>
    /// <returns>The upstream as this change made it (a later change does not show here).</returns>
    public Upstream Update(string name, UpstreamOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Update(name, _ => options);
    }

    /// <summary>
    /// Builds an upstream from a copy of its current options (<see langword="null"/> when it does not exist yet) and applies
    /// it atomically, so a concurrent change is never undone: e.g. replacing only the servers and keeping everything else.
    /// The new upstream is prepared (copied, validated, its selectors built) before the registry's write lock is taken, so
    /// writers of other upstreams do not wait for a large one; when another change to the same upstream lands meanwhile,
    /// <paramref name="build"/> runs again, on the options as that change left them.
    /// </summary>
    /// <param name="name">The upstream name.</param>
    /// <param name="build">Returns the new options; it may run more than once, and must not call the registry.</param>
    /// <exception cref="CheckupsValidationException">The options built are invalid; nothing was changed.</exception>
    /// <exception cref="UpstreamOwnershipException">Another source owns the upstream.</exception>
    /// <exception cref="ObjectDisposedException">The writer was disposed.</exception>
    /// <returns>The upstream as this change made it (a later change does not show here).</returns>
    public Upstream Update(string name, Func<UpstreamOptions?, UpstreamOptions> build) => Update(name, build, ifVersion: null);

    /// <summary>
    /// As <see cref="Update(string, Func{UpstreamOptions?, UpstreamOptions})"/>, only when the upstream exists at
    /// <paramref name="ifVersion"/> (<see cref="Upstream.Version"/>), checked under the write lock: an optimistic
    /// concurrency check, so a change made from a stale read is refused instead of silently undoing another.
    /// </summary>
    /// <param name="name">The upstream name.</param>
    /// <param name="build">Returns the new options; it may run more than once, and must not call the registry.</param>
    /// <param name="ifVersion">The version the caller read; <see langword="null"/> for no condition.</param>
    /// <returns>The upstream as this change made it.</returns>
    /// <exception cref="UpstreamVersionMismatchException">The upstream is missing or at another version; nothing was changed.</exception>
    /// <exception cref="CheckupsValidationException">The options built are invalid; nothing was changed.</exception>
    /// <exception cref="UpstreamOwnershipException">Another source owns the upstream.</exception>
    /// <exception cref="ObjectDisposedException">The writer was disposed.</exception>
    public Upstream Update(string name, Func<UpstreamOptions?, UpstreamOptions> build, long? ifVersion)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(build);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _store.Change(SourceName, name, build, CheckupsOptions.SectionName, ifVersion);
    }

    /// <summary>Removes an upstream this writer owns, and the health state of its servers.</summary>
    /// <param name="name">The upstream name.</param>
    /// <returns>Whether the upstream existed.</returns>
    /// <exception cref="UpstreamOwnershipException">Another source owns the upstream.</exception>
    /// <exception cref="ObjectDisposedException">The writer was disposed.</exception>
    public bool Delete(string name) => Delete(name, ifVersion: null);

    /// <summary>Removes an upstream this writer owns, only when it is at <paramref name="ifVersion"/> (checked under the write lock).</summary>
    /// <param name="name">The upstream name.</param>
    /// <param name="ifVersion">The version the caller read; <see langword="null"/> for no condition.</param>
    /// <returns>Whether the upstream existed.</returns>
    /// <exception cref="UpstreamVersionMismatchException">The upstream is missing or at another version; nothing was changed.</exception>
    /// <exception cref="UpstreamOwnershipException">Another source owns the upstream.</exception>
    /// <exception cref="ObjectDisposedException">The writer was disposed.</exception>
    public bool Delete(string name, long? ifVersion)
    {
        ArgumentNullException.ThrowIfNull(name);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _store.Remove(SourceName, name, ifVersion);
    }

    /// <summary>Gives the name back; the upstreams written stay in service, owned by the name, until a writer or source of that name changes them.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _release(SourceName);
        }
    }
}
