using System;
using System.Collections.Frozen;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Balancing;
using Checkups.Configuration;
using Checkups.Execution;
using Checkups.Health.Heartbeat;
using Checkups.Health.Probes;
using Checkups.Model;
using Checkups.Sources;
using Checkups.Status;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Checkups.Registry;

/// <summary>
/// The entry point of Checkups: pick a server, run a call with retries across servers, lease a server for a call of your
/// own, report outcomes, change upstreams at run time and read their status. Thread-safe. Reads never lock: every change
/// builds new immutable snapshots off the hot path and swaps one reference, so a pick sees the old or the new upstream,
/// never a mix. Upstreams come from sources (<see cref="UpstreamSourceNames"/>, <see cref="IUpstreamSource"/>); each name
/// has one owner, and only its owner changes it.
/// </summary>
public sealed partial class UpstreamRegistry : IDisposable
{
    private readonly UpstreamStore _store;
    private readonly TryLoop _tryLoop;
    private readonly ILogger _logger;
    private readonly DateTimeOffset _startTime;
    private readonly List<IDisposable> _subscriptions = new();
    private readonly List<string> _writers = new();
    private readonly HashSet<string> _sourceNames = new(StringComparer.OrdinalIgnoreCase) { UpstreamSourceNames.Configuration, UpstreamSourceNames.Runtime };

    /// <summary>
    /// Initializes a registry with the given settings and upstreams. Nothing reloads these upstreams, so they belong to
    /// the run-time API (owner <c>runtime</c>): <see cref="Update"/> and <see cref="Delete"/> may change them. Probes are the
    /// built-in ones.
    /// </summary>
    /// <param name="options">The initial options; validated whole.</param>
    /// <param name="timeProvider">The clock; default <see cref="TimeProvider.System"/>.</param>
    /// <param name="logger">The logger; default none.</param>
    /// <exception cref="CheckupsValidationException">The options are invalid; <see cref="CheckupsValidationException.Errors"/> says where.</exception>
    public UpstreamRegistry(CheckupsOptions options, TimeProvider? timeProvider = null, ILogger<UpstreamRegistry>? logger = null)
        : this(options, timeProvider, logger, RandomSource.Shared, BuiltInProbeTypes, UpstreamSourceNames.Runtime)
    {
    }

    /// <summary>
    /// Initializes a registry as <see cref="UpstreamRegistry(CheckupsOptions, TimeProvider?, ILogger{UpstreamRegistry}?)"/>
    /// does, with balancing modes of your own besides the built-in ones: upstreams name them in <c>Mode</c>.
    /// </summary>
    /// <param name="options">The initial options; validated whole.</param>
    /// <param name="modes">The modes added to the built-in ones.</param>
    /// <param name="timeProvider">The clock; default <see cref="TimeProvider.System"/>.</param>
    /// <param name="logger">The logger; default none.</param>
    /// <exception cref="ArgumentException">A mode has the name of a built-in mode or of another one.</exception>
    /// <exception cref="CheckupsValidationException">The options are invalid; <see cref="CheckupsValidationException.Errors"/> says where.</exception>
    public UpstreamRegistry(CheckupsOptions options, IEnumerable<BalancingMode> modes, TimeProvider? timeProvider = null, ILogger<UpstreamRegistry>? logger = null)
        : this(options, timeProvider, logger, RandomSource.Shared, BuiltInProbeTypes, UpstreamSourceNames.Runtime, new SelectorCatalog(modes ?? throw new ArgumentNullException(nameof(modes))))
    {
    }

    /// <summary>Initializes a registry whose upstreams belong to <paramref name="owner"/>, with the given probe types, modes and randomness.</summary>
    internal UpstreamRegistry(CheckupsOptions options, TimeProvider? timeProvider, ILogger<UpstreamRegistry>? logger, RandomSource random, IReadOnlySet<string> probeTypes, string owner, SelectorCatalog? modes = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _store = new UpstreamStore(CheckupsSettings.From(options), time, random, probeTypes, modes ?? SelectorCatalog.BuiltIn, _logger);
        _store.Changed += change => Changed?.Invoke(this, change);
        _tryLoop = new TryLoop(time, _logger, _store);
        _startTime = time.GetUtcNow();
        OptionsSource.Apply(_store, options, owner);
    }

    /// <summary>Initializes a registry with seeded randomness (simulations and tests); its upstreams belong to the run-time API.</summary>
    internal UpstreamRegistry(CheckupsOptions options, TimeProvider? timeProvider, ILogger<UpstreamRegistry>? logger, RandomSource random)
        : this(options, timeProvider, logger, random, BuiltInProbeTypes, UpstreamSourceNames.Runtime)
    {
    }

    /// <summary>
    /// Raised after every applied change, in version order, after the registry's write lock is released: a handler may
    /// call the registry and may wait for another thread that changes it. Handlers of one change run before those of the next.
    /// </summary>
    public event EventHandler<UpstreamsChangedEventArgs>? Changed;

    /// <summary>Gets the configuration version: 0 when empty, incremented by every applied change.</summary>
    public long Version => _store.Current.Version;

    /// <summary>Gets the interval of the active health check.</summary>
    public TimeSpan HeartbeatInterval => _store.Settings.HeartbeatInterval;

    /// <summary>Gets how many probes of one heartbeat round run at once.</summary>
    public int HeartbeatConcurrency => _store.Settings.HeartbeatConcurrency;

    /// <summary>Gets the store of snapshots (for the heartbeat and the option source).</summary>
    internal UpstreamStore Store => _store;

    /// <summary>Gets the heartbeat loop's own state (last round, alive), reported in the status.</summary>
    internal HeartbeatState Heartbeat { get; } = new();

    internal static IReadOnlySet<string> BuiltInProbeTypes { get; } =
        new[] { ProbeTypes.Tcp, ProbeTypes.Http, ProbeTypes.Redis, ProbeTypes.MySql }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets the current snapshot of every upstream.</summary>
    /// <returns>The upstreams, in no particular order.</returns>
    public IReadOnlyCollection<Upstream> GetAll() => _store.Current.Upstreams.Values;

    /// <summary>Gets the current snapshot of one upstream.</summary>
    /// <param name="name">The upstream name (case-insensitive).</param>
    /// <param name="upstream">The snapshot, when found.</param>
    /// <returns>Whether the upstream exists.</returns>
    public bool TryGet(string name, [NotNullWhen(true)] out Upstream? upstream)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _store.Current.Upstreams.TryGetValue(name, out upstream);
    }

    /// <summary>Gets the current snapshot of one upstream.</summary>
    /// <param name="name">The upstream name (case-insensitive).</param>
    /// <returns>The snapshot.</returns>
    /// <exception cref="UpstreamNotFoundException">There is no such upstream.</exception>
    public Upstream Get(string name) => TryGet(name, out var upstream) ? upstream : throw new UpstreamNotFoundException(name);

    /// <summary>
    /// Attaches a source: applies what it holds now, then follows its change token. Each later snapshot is applied whole;
    /// one that is invalid or names an upstream another source owns is logged and changes nothing.
    /// </summary>
    /// <param name="source">The source; its name must be unique and not <c>configuration</c> or <c>runtime</c>.</param>
    /// <returns>
    /// Disposing it stops following the source. Its upstreams stay in service, still owned by its name, so a source attached
    /// again under that name takes them over with its first snapshot.
    /// </returns>
    /// <exception cref="ArgumentException">Another source has the same name.</exception>
    /// <exception cref="CheckupsValidationException">The source's first snapshot is invalid or claims another source's upstream.</exception>
    public IDisposable AddSource(IUpstreamSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentException.ThrowIfNullOrWhiteSpace(source.Name, nameof(source));
        lock (_sourceNames)
        {
            if (!_sourceNames.Add(source.Name))
            {
                throw new ArgumentException($"A source named '{source.Name}' is already attached (or the name is reserved).", nameof(source));
            }
        }

        try
        {
            var subscription = new SourceSubscription(_store, source, _logger, Detach);
            lock (_subscriptions)
            {
                _subscriptions.Add(subscription);
            }

            return subscription;
        }
        catch
        {
            lock (_sourceNames)
            {
                _sourceNames.Remove(source.Name);
            }

            throw;
        }
    }

    /// <summary>
    /// Adds a source that writes when told to (<see cref="UpstreamWriter"/>), as the run-time API does, under its own name:
    /// the admin API is one. Upstreams it creates are owned by that name.
    /// </summary>
    /// <param name="sourceName">The writer's source name; unique among sources and writers, and not <c>configuration</c> or <c>runtime</c>.</param>
    /// <returns>The writer; disposing it gives the name back.</returns>
    /// <exception cref="ArgumentException">Another source or writer has the name.</exception>
    public UpstreamWriter AddWriter(string sourceName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sourceName);
        lock (_sourceNames)
        {
            if (!_sourceNames.Add(sourceName))
            {
                throw new ArgumentException($"A source named '{sourceName}' is already attached (or the name is reserved).", nameof(sourceName));
            }

            _writers.Add(sourceName);
        }

        return new UpstreamWriter(_store, sourceName, name =>
        {
            lock (_sourceNames)
            {
                _sourceNames.Remove(name);
                _writers.Remove(name);
            }
        });
    }

    /// <summary>Takes a snapshot of every upstream's servers and of the checker (lua <c>get_status</c>).</summary>
    /// <returns>The snapshot; <see cref="CheckupsStatus.ToJson"/> writes lua-resty-checkups' JSON shape.</returns>
    public CheckupsStatus GetStatus()
    {
        var sources = new List<(string, IUpstreamSource?)>();
        lock (_subscriptions)
        {
            foreach (var subscription in _subscriptions)
            {
                if (subscription is SourceSubscription attached)
                {
                    sources.Add((attached.Name, attached.Source));
                }
            }
        }

        lock (_sourceNames)
        {
            // Writers (the admin API…) own upstreams too; they have no feed to report.
            foreach (string writer in _writers)
            {
                sources.Add((writer, null));
            }
        }

        return StatusReporter.Read(_store.Current, Heartbeat, _startTime, sources, _store.Settings);
    }

    /// <summary>Gets the connect, send and read timeouts of an upstream (lua <c>get_ups_timeout</c>).</summary>
    /// <param name="upstream">The upstream name.</param>
    /// <returns>The timeouts.</returns>
    /// <exception cref="UpstreamNotFoundException">There is no such upstream.</exception>
    public UpstreamTimeouts GetTimeouts(string upstream) => Get(upstream).Timeouts;

    /// <summary>Stops following configuration reloads and sources.</summary>
    public void Dispose()
    {
        IDisposable[] subscriptions;
        lock (_subscriptions)
        {
            subscriptions = _subscriptions.ToArray();
            _subscriptions.Clear();
        }

        // Outside the lock: a subscription detaches itself from the list when disposed.
        Array.ForEach(subscriptions, s => s.Dispose());
    }

    /// <summary>
    /// Follows the options pipeline: every reload is applied as the configuration source's change. <paramref name="applied"/>
    /// is what the registry was built with; a reload that landed while it was being built is applied now.
    /// </summary>
    internal void FollowOptions(IOptionsMonitor<CheckupsOptions> monitor, CheckupsOptions applied, ConfigurationFiles? files = null)
    {
        var source = new OptionsSource(_store, monitor, applied, _logger, files);
        lock (_subscriptions)
        {
            _subscriptions.Add(source);
        }
    }

    private void Detach(SourceSubscription subscription)
    {
        lock (_subscriptions)
        {
            _subscriptions.Remove(subscription);
        }

        lock (_sourceNames)
        {
            _sourceNames.Remove(subscription.Name);
        }
    }
}
