using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using Checkups.Balancing;
using Checkups.Configuration;
using Checkups.Diagnostics;
using Checkups.Model;
using Checkups.Sources;
using Microsoft.Extensions.Logging;

namespace Checkups.Registry;

/// <summary>
/// The (upstreams, version) snapshot and the only place that changes it. Every change comes from one source, is
/// validated whole before anything is built, touches only the upstreams that source owns, and is swapped in as one
/// reference. Change events are queued under the write lock (so they keep version order) and raised after it is
/// released, so a handler may wait for another thread that changes the registry.
/// </summary>
internal sealed class UpstreamStore
{
    private readonly object _writeGate = new();
    private int _dispatching;
    private readonly ConcurrentQueue<UpstreamsChangedEventArgs> _events = new();
    private readonly ILogger _logger;
    private readonly IReadOnlySet<string> _probeTypes;
    private StoreState _state = new(UpstreamMap.Empty, 0);
    private int _compactionQueued;
    private CheckupsSettings _settings;
    private BalancingEnvironment _environment;

    public UpstreamStore(CheckupsSettings settings, TimeProvider time, RandomSource random, IReadOnlySet<string> probeTypes, SelectorCatalog modes, ILogger logger)
    {
        _settings = settings;
        _environment = new BalancingEnvironment(time, random, settings.Locality, modes);
        _probeTypes = probeTypes;
        _logger = logger;
    }

    /// <summary>Raised after every applied change, in version order, outside the write lock.</summary>
    public event Action<UpstreamsChangedEventArgs>? Changed;

    /// <summary>Gets the current snapshot: one volatile read.</summary>
    public StoreState Current => Volatile.Read(ref _state);

    /// <summary>Gets the global settings in force.</summary>
    public CheckupsSettings Settings => Volatile.Read(ref _settings);

    /// <summary>Gets the probe types upstreams may name.</summary>
    public IReadOnlySet<string> ProbeTypes => _probeTypes;

    /// <summary>Gets the balancing modes upstreams may name.</summary>
    public SelectorCatalog Modes => _environment.Modes;

    /// <summary>
    /// Replaces everything <paramref name="owner"/> owns with <paramref name="upstreams"/> (and, for the configuration,
    /// the global settings), all or nothing: an invalid upstream, or a name another source owns, rejects the whole change.
    /// </summary>
    public void ReplaceOwned(string owner, IReadOnlyDictionary<string, UpstreamOptions> upstreams, string prefix, CheckupsSettings? settings)
    {
        try
        {
            lock (_writeGate)
            {
                var state = _state;
                var next = settings ?? _settings;
                var errors = settings is null ? new List<string>() : CheckupsOptionsValidator.ValidateSettings(next, prefix);
                var copies = new Dictionary<string, (UpstreamOptions Options, string Fingerprint)>(StringComparer.OrdinalIgnoreCase);
                var spelled = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                foreach (var (given, options) in upstreams)
                {
                    string path = PathOf(prefix, given);
                    string name = KeptName(given);
                    if (!spelled.TryAdd(name, given))
                    {
                        errors.Add($"{path} is the upstream {PathOf(prefix, spelled[name])} spelled another way (names compare in Unicode normalization form C, ignoring case)");
                        continue;
                    }

                    if (state.Upstreams.TryGetValue(name, out var existing) && existing.Owner != owner)
                    {
                        errors.Add($"{path} is owned by source '{existing.Owner}'; source '{owner}' cannot change it");
                        continue;
                    }

                    var copy = options is null ? null : OptionsCopy.Of(options);
                    CheckupsOptionsValidator.ValidateUpstream(name, copy, path, next.Locality, prefix, _probeTypes, _environment.Modes, errors);
                    if (copy is not null)
                    {
                        copies[name] = (copy, OptionsCopy.Fingerprint(copy));
                    }
                }

                bool defaultsChanged = next.HeartbeatEnabled != _settings.HeartbeatEnabled || next.Locality != _settings.Locality;
                if (defaultsChanged)
                {
                    // Every upstream is rebuilt with the new defaults: those of other sources must be valid under them too.
                    foreach (var upstream in state.Upstreams.Values)
                    {
                        if (upstream.Owner != owner)
                        {
                            CheckupsOptionsValidator.ValidateUpstream(upstream.Name, upstream.Source, $"{PathOf(prefix, upstream.Name)} (owned by {upstream.Owner})", next.Locality, prefix, _probeTypes, _environment.Modes, errors);
                        }
                    }
                }

                if (errors.Count > 0)
                {
                    throw new CheckupsValidationException(errors);
                }

                var environment = _environment with { Locality = next.Locality };
                var updated = new List<Upstream>();
                foreach (var (name, (options, fingerprint)) in copies)
                {
                    state.Upstreams.TryGetValue(name, out var existing);
                    if (existing is null || existing.Fingerprint != fingerprint || defaultsChanged)
                    {
                        updated.Add(Build(state, existing?.Name ?? name, options, fingerprint, owner, next, environment));
                    }
                }

                var removed = new List<string>();
                foreach (var upstream in state.Upstreams.Values)
                {
                    if (upstream.Owner == owner && !copies.ContainsKey(upstream.Name))
                    {
                        removed.Add(upstream.Name);
                    }
                    else if (defaultsChanged && upstream.Owner != owner)
                    {
                        // The defaults every upstream is built with changed: rebuild those of other sources too.
                        updated.Add(Build(state, upstream.Name, upstream.Source, upstream.Fingerprint, upstream.Owner, next, environment));
                    }
                }

                // Everything is built: from here on nothing can fail, so the settings and the upstreams change together.
                // A change of the settings alone is a change too: it bumps the version, as any applied change does.
                bool settingsChanged = next != _settings;
                Volatile.Write(ref _settings, next);
                _environment = environment;
                if (updated.Count > 0 || removed.Count > 0 || settingsChanged)
                {
                    Commit(owner, updated, removed);
                }
            }
        }
        finally
        {
            RaiseEvents();
        }
    }

    /// <summary>Adds or replaces one upstream for <paramref name="owner"/>; <paramref name="options"/> is a private copy.</summary>
    public void Put(string owner, string name, UpstreamOptions options, string prefix)
    {
        name = KeptName(name);
        try
        {
            lock (_writeGate)
            {
                CheckOwner(owner, name);
                Apply(owner, name, options, prefix);
            }
        }
        finally
        {
            RaiseEvents();
        }
    }

    /// <summary>Changes a copy of one upstream's options and applies it, all under the write lock, so a concurrent change is not undone.</summary>
    public void Modify(string owner, string name, Action<UpstreamOptions> change, string prefix)
    {
        name = KeptName(name);
        try
        {
            lock (_writeGate)
            {
                var existing = CheckOwner(owner, name) ?? throw new UpstreamNotFoundException(name);
                var copy = OptionsCopy.Of(existing.Source);
                change(copy);
                Apply(owner, name, copy, prefix);
            }
        }
        finally
        {
            RaiseEvents();
        }
    }

    /// <summary>
    /// Builds one upstream from a copy of the current options (null when there is none) and applies it. The copy, the
    /// validation and the selectors are prepared outside the write lock, on the snapshot read first (for a large upstream
    /// they take tens of milliseconds, which writers of other upstreams need not wait for), and committed under the lock
    /// when that snapshot and the settings are still the current ones; otherwise they are prepared again under the lock.
    /// So <paramref name="build"/> may run twice, and a change is never applied over one it did not see.
    /// </summary>
    public Upstream Change(string owner, string name, Func<UpstreamOptions?, UpstreamOptions> build, string prefix, long? ifVersion = null)
    {
        name = KeptName(name);
        try
        {
            var state = Volatile.Read(ref _state);
            var settings = Volatile.Read(ref _settings);
            var environment = _environment;
            var existing = CheckOwner(state, owner, name);
            CheckVersion(name, existing, ifVersion);
            var prepared = Prepare(owner, name, existing, build, prefix, settings, environment);
            lock (_writeGate)
            {
                var current = CheckOwner(_state, owner, name);
                CheckVersion(name, current, ifVersion);
                if (!ReferenceEquals(current, existing) || !ReferenceEquals(settings, _settings) || !ReferenceEquals(environment, _environment))
                {
                    prepared = Prepare(owner, name, current, build, prefix, _settings, _environment);
                }

                prepared.StampVersion(_state.Version + 1);
                Commit(owner, new[] { prepared }, Array.Empty<string>());
                return prepared;
            }
        }
        finally
        {
            RaiseEvents();
        }
    }

    /// <summary>The upstream <paramref name="build"/> makes of <paramref name="existing"/>, validated and built, not yet committed.</summary>
    private Upstream Prepare(string owner, string name, Upstream? existing, Func<UpstreamOptions?, UpstreamOptions> build, string prefix, CheckupsSettings settings, BalancingEnvironment environment)
    {
        var next = build(existing is null ? null : OptionsCopy.Of(existing.Source))
            ?? throw new InvalidOperationException("The change returned no upstream.");
        var options = OptionsCopy.Of(next);
        var errors = new List<string>();
        CheckupsOptionsValidator.ValidateUpstream(name, options, PathOf(prefix, name), settings.Locality, prefix, _probeTypes, environment.Modes, errors);
        if (errors.Count > 0)
        {
            throw new CheckupsValidationException(errors);
        }

        return UpstreamBuilder.Build(existing?.Name ?? name, options, existing, 0, settings.HeartbeatEnabled, environment, owner, OptionsCopy.Fingerprint(options));
    }

    /// <summary>Removes one upstream <paramref name="owner"/> owns; returns whether it existed.</summary>
    public bool Remove(string owner, string name, long? ifVersion = null)
    {
        name = KeptName(name);
        try
        {
            lock (_writeGate)
            {
                var existing = CheckOwner(owner, name);
                CheckVersion(name, existing, ifVersion);
                if (existing is null)
                {
                    return false;
                }

                Commit(owner, Array.Empty<Upstream>(), new[] { existing.Name });
                return true;
            }
        }
        finally
        {
            RaiseEvents();
        }
    }

    /// <summary>The spelling a name is kept under (normalization form C); a name the rule refuses is kept as given, for its error.</summary>
    private static string KeptName(string name) => UpstreamName.Problem(name) is null ? UpstreamName.Normalize(name) : name;

    /// <summary>An upstream's configuration path; a name the rule refuses is shown with its invisible characters escaped.</summary>
    private static string PathOf(string prefix, string name) =>
        $"{prefix}:Upstreams:{(UpstreamName.Problem(name) is null ? name : CheckupsOptionsValidator.Printable(name))}";

    /// <summary>A conditional write (an HTTP <c>If-Match</c>): the upstream must exist at exactly <paramref name="ifVersion"/>.</summary>
    private static void CheckVersion(string name, Upstream? existing, long? ifVersion)
    {
        if (ifVersion is { } expected && existing?.Version != expected)
        {
            throw new UpstreamVersionMismatchException(existing?.Name ?? name, expected, existing?.Version);
        }
    }

    private Upstream? CheckOwner(string owner, string name) => CheckOwner(_state, owner, name);

    private static Upstream? CheckOwner(StoreState state, string owner, string name)
    {
        if (state.Upstreams.TryGetValue(name, out var existing) && existing.Owner != owner)
        {
            throw new UpstreamOwnershipException(existing.Name, existing.Owner, owner);
        }

        return existing;
    }

    private Upstream Apply(string owner, string name, UpstreamOptions options, string prefix)
    {
        var errors = new List<string>();
        CheckupsOptionsValidator.ValidateUpstream(name, options, PathOf(prefix, name), _settings.Locality, prefix, _probeTypes, _environment.Modes, errors);
        if (errors.Count > 0)
        {
            throw new CheckupsValidationException(errors);
        }

        var state = _state;
        state.Upstreams.TryGetValue(name, out var existing);
        var upstream = Build(state, existing?.Name ?? name, options, OptionsCopy.Fingerprint(options), owner, _settings, _environment);
        Commit(owner, new[] { upstream }, Array.Empty<string>());
        return upstream;
    }

    private static Upstream Build(StoreState state, string name, UpstreamOptions options, string fingerprint, string owner, CheckupsSettings settings, BalancingEnvironment environment)
    {
        state.Upstreams.TryGetValue(name, out var previous);
        return UpstreamBuilder.Build(name, options, previous, state.Version + 1, settings.HeartbeatEnabled, environment, owner, fingerprint);
    }

    /// <summary>Swaps in a new snapshot map with one version bump and queues its event. Callers hold the write gate.</summary>
    private void Commit(string owner, IReadOnlyList<Upstream> updated, IReadOnlyList<string> removed)
    {
        var updatedNames = new string[updated.Count];
        for (int i = 0; i < updated.Count; i++)
        {
            updatedNames[i] = updated[i].Name;

            // Live state changes only with a change that is applied: built states may be shared with the current snapshot.
            foreach (var health in updated[i].Health.Values)
            {
                health.SetActiveChecks(updated[i].HeartbeatEnabled);
            }
        }

        long version = _state.Version + 1;
        var map = _state.Upstreams.With(updated, removed);
        Volatile.Write(ref _state, new StoreState(map, version));
        if (map.HasOverlay && Interlocked.Exchange(ref _compactionQueued, 1) == 0)
        {
            // Fold the overlay into a new frozen base off the caller's path, so lookups go back to one frozen read.
            ThreadPool.UnsafeQueueUserWorkItem(static store => store.Compact(), this, preferLocal: false);
        }

        Log.UpstreamsChanged(_logger, version, owner, string.Join(", ", updatedNames), string.Join(", ", removed));
        _events.Enqueue(new UpstreamsChangedEventArgs(version, owner, updatedNames, removed));
    }

    /// <summary>
    /// Replaces the map by its compacted form: the same upstreams and version, read faster. Built outside the write lock
    /// and swapped in only if no change came meanwhile (a change that did queued its own compaction).
    /// </summary>
    private void Compact()
    {
        // A full fence: the state read below is never older than the flag's reset, so a commit that saw the flag still set
        // is one whose state this compaction reads (or a later one queued its own).
        Interlocked.Exchange(ref _compactionQueued, 0);
        var state = Volatile.Read(ref _state);
        if (!state.Upstreams.HasOverlay)
        {
            return;
        }

        var compacted = state with { Upstreams = state.Upstreams.Compacted() };
        lock (_writeGate)
        {
            if (ReferenceEquals(_state, state))
            {
                Volatile.Write(ref _state, compacted);
            }
        }
    }

    /// <summary>
    /// Raises queued events, oldest first, outside the write lock. One thread raises at a time and a nested call (a handler
    /// that changes the registry) does not raise: events queued meanwhile wait behind the ones being raised, so every
    /// handler sees one change before the next, and a handler that waits for another thread's change never deadlocks.
    /// </summary>
    private void RaiseEvents()
    {
        while (!_events.IsEmpty && Interlocked.CompareExchange(ref _dispatching, 1, 0) == 0)
        {
            try
            {
                while (_events.TryDequeue(out var change))
                {
                    try
                    {
                        Changed?.Invoke(change);
                    }
#pragma warning disable CA1031 // A subscriber's bug must not undo or hide an applied change.
                    catch (Exception ex)
#pragma warning restore CA1031
                    {
                        Log.ChangeHandlerFailed(_logger, ex);
                    }
                }
            }
            finally
            {
                Volatile.Write(ref _dispatching, 0);
            }
        }
    }
}

/// <summary>The upstreams and the version they make up, swapped as one reference.</summary>
/// <param name="Upstreams">The upstreams by name (case-insensitive).</param>
/// <param name="Version">The version: 0 when empty, incremented by every applied change.</param>
internal sealed record StoreState(UpstreamMap Upstreams, long Version);

/// <summary>The global settings (from <see cref="CheckupsOptions"/>), applied atomically with the configuration's upstreams.</summary>
internal sealed record CheckupsSettings(TimeSpan HeartbeatInterval, bool HeartbeatEnabled, int HeartbeatConcurrency, Locality Locality)
{
    public static CheckupsSettings From(CheckupsOptions options) => new(
        options.HeartbeatInterval,
        options.HeartbeatEnabled,
        options.HeartbeatConcurrency,
        new Locality(options.LocalZone, options.PreferLocalAddresses));
}
