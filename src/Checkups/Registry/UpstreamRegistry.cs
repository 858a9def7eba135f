using System;
using System.Collections.Frozen;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Balancing;
using Checkups.Configuration;
using Checkups.Diagnostics;
using Checkups.Execution;
using Checkups.Model;
using Checkups.Status;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Primitives;

namespace Checkups.Registry;

/// <summary>
/// The live set of upstreams and the entry point of Checkups: pick a server, run a call with retries across
/// servers, report outcomes, change upstreams at run time and read their status. Thread-safe. Reads never lock:
/// every change builds new immutable snapshots off the hot path and swaps one reference, so a pick sees the old
/// or the new upstream, never a mix.
/// </summary>
public sealed class UpstreamRegistry : IDisposable
{
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TryLoop _tryLoop;
    private readonly object _writeGate = new();
    private readonly DateTimeOffset _startTime;
    private readonly Dictionary<string, string> _configured = new(StringComparer.OrdinalIgnoreCase);
    private readonly RandomSource _random;
    private State _state = new(FrozenDictionary<string, Upstream>.Empty, 0);
    private bool _heartbeatDefault;
    private BalancingEnvironment _environment;
    private int _heartbeatAlive;
    private long _lastCheckTicks = long.MinValue;
    private IDisposable? _configurationWatch;

    /// <summary>Initializes a new instance of the <see cref="UpstreamRegistry"/> class with the given upstreams.</summary>
    /// <param name="options">The initial options; validated whole.</param>
    /// <param name="timeProvider">The clock; default <see cref="TimeProvider.System"/>.</param>
    /// <param name="logger">The logger; default none.</param>
    /// <exception cref="CheckupsValidationException">The options are invalid; <see cref="CheckupsValidationException.Errors"/> says where.</exception>
    public UpstreamRegistry(CheckupsOptions options, TimeProvider? timeProvider = null, ILogger<UpstreamRegistry>? logger = null)
        : this(options, timeProvider, logger, RandomSource.Shared)
    {
    }

    /// <summary>Initializes a registry whose selectors draw from <paramref name="random"/> (seeded in simulations and tests).</summary>
    internal UpstreamRegistry(CheckupsOptions options, TimeProvider? timeProvider, ILogger<UpstreamRegistry>? logger, RandomSource random)
    {
        ArgumentNullException.ThrowIfNull(options);
        _random = random;
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _tryLoop = new TryLoop(_time, _logger);
        _startTime = _time.GetUtcNow();
        _heartbeatDefault = options.HeartbeatEnabled;
        _environment = new BalancingEnvironment(_time, _random, new Locality(options.LocalZone, options.PreferLocalAddresses));
        HeartbeatInterval = options.HeartbeatInterval;
        HeartbeatConcurrency = options.HeartbeatConcurrency;
        ApplyConfiguration(options, CheckupsOptions.SectionName);
    }

    /// <summary>
    /// Raised after every applied change, in version order, on the thread that made it, while the registry's write lock is
    /// held (that is what keeps the order). Keep handlers short: a handler may call the registry, but must not wait for
    /// another thread that changes it.
    /// </summary>
    public event EventHandler<UpstreamsChangedEventArgs>? Changed;

    /// <summary>Gets the configuration version: 0 when empty, incremented by every applied change.</summary>
    public long Version => Volatile.Read(ref _state).Version;

    /// <summary>Gets the interval of the active health check.</summary>
    public TimeSpan HeartbeatInterval { get; private set; }

    /// <summary>Gets how many probes of one heartbeat round run at once.</summary>
    public int HeartbeatConcurrency { get; private set; }

    /// <summary>Gets the current snapshot of every upstream.</summary>
    /// <returns>The upstreams, in no particular order.</returns>
    public IReadOnlyCollection<Upstream> GetAll() => Volatile.Read(ref _state).Upstreams.Values;

    /// <summary>Gets the current snapshot of one upstream.</summary>
    /// <param name="name">The upstream name (case-insensitive).</param>
    /// <param name="upstream">The snapshot, when found.</param>
    /// <returns>Whether the upstream exists.</returns>
    public bool TryGet(string name, [NotNullWhen(true)] out Upstream? upstream)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Volatile.Read(ref _state).Upstreams.TryGetValue(name, out upstream);
    }

    /// <summary>Gets the current snapshot of one upstream.</summary>
    /// <param name="name">The upstream name (case-insensitive).</param>
    /// <returns>The snapshot.</returns>
    /// <exception cref="UpstreamNotFoundException">There is no such upstream.</exception>
    public Upstream Get(string name) => TryGet(name, out var upstream) ? upstream : throw new UpstreamNotFoundException(name);

    /// <summary>Adds or replaces a whole upstream. The health of servers that stay (same host:port) is kept.</summary>
    /// <param name="name">The upstream name.</param>
    /// <param name="options">The upstream; validated whole and copied.</param>
    /// <exception cref="CheckupsValidationException">The options are invalid; nothing was changed.</exception>
    public void Update(string name, UpstreamOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Apply(name, options.Clone());
    }

    /// <summary>Replaces only the servers of an upstream (as one level-1 cluster), keeping its mode and policies.</summary>
    /// <param name="name">The upstream name.</param>
    /// <param name="servers">The new servers.</param>
    /// <exception cref="UpstreamNotFoundException">There is no such upstream.</exception>
    /// <exception cref="CheckupsValidationException">The servers are invalid; nothing was changed.</exception>
    public void UpdateServers(string name, IEnumerable<ServerOptions> servers)
    {
        ArgumentNullException.ThrowIfNull(servers);
        ReplaceClusters(name, options =>
        {
            foreach (var server in servers)
            {
                options.Servers.Add(server?.Clone()!);
            }
        });
    }

    /// <summary>Replaces only the clusters of an upstream with priority levels (first = level 1), keeping its mode and policies.</summary>
    /// <param name="name">The upstream name.</param>
    /// <param name="levels">The new clusters, level 1 first.</param>
    /// <exception cref="UpstreamNotFoundException">There is no such upstream.</exception>
    /// <exception cref="CheckupsValidationException">The clusters are invalid; nothing was changed.</exception>
    public void UpdateClusters(string name, IEnumerable<ClusterOptions> levels)
    {
        ArgumentNullException.ThrowIfNull(levels);
        ReplaceClusters(name, options =>
        {
            foreach (var level in levels)
            {
                options.Clusters.Add(level?.Clone()!);
            }
        });
    }

    /// <summary>Replaces only the clusters of an upstream with named clusters, keeping its mode and policies.</summary>
    /// <param name="name">The upstream name.</param>
    /// <param name="clusters">The new clusters by name, in default order.</param>
    /// <exception cref="UpstreamNotFoundException">There is no such upstream.</exception>
    /// <exception cref="CheckupsValidationException">The clusters are invalid; nothing was changed.</exception>
    public void UpdateNamedClusters(string name, IEnumerable<KeyValuePair<string, ClusterOptions>> clusters)
    {
        ArgumentNullException.ThrowIfNull(clusters);
        ReplaceClusters(name, options =>
        {
            foreach (var (clusterName, cluster) in clusters)
            {
                if (!options.NamedClusters.TryAdd(clusterName, cluster?.Clone()!))
                {
                    throw new CheckupsValidationException(Path(name) + $":NamedClusters:{clusterName} is listed twice");
                }
            }
        });
    }

    /// <summary>Removes an upstream and the health state of its servers.</summary>
    /// <param name="name">The upstream name.</param>
    /// <returns>Whether the upstream existed.</returns>
    public bool Delete(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        lock (_writeGate)
        {
            if (!_state.Upstreams.TryGetValue(name, out var existing))
            {
                return false;
            }

            Commit(Array.Empty<Upstream>(), new[] { existing.Name });
            return true;
        }
    }

    /// <summary>Picks a selectable server of an upstream without running a call (lua <c>select_peer</c>).</summary>
    /// <param name="upstream">The upstream name.</param>
    /// <param name="hashKey">The key for hashing modes.</param>
    /// <returns>The server.</returns>
    /// <exception cref="UpstreamNotFoundException">There is no such upstream.</exception>
    /// <exception cref="NoServerAvailableException">No server of any cluster is selectable.</exception>
    public Peer SelectPeer(string upstream, string? hashKey = null)
    {
        var snapshot = Get(upstream);
        var context = SelectionContext.For(snapshot, hashKey);
        return Select(snapshot, ref context);
    }

    /// <summary>Picks a selectable server of an upstream for a key given as characters (hashed as UTF-8), without allocating.</summary>
    /// <param name="upstream">The upstream name.</param>
    /// <param name="hashKey">The key for hashing modes.</param>
    /// <returns>The server.</returns>
    /// <exception cref="UpstreamNotFoundException">There is no such upstream.</exception>
    /// <exception cref="NoServerAvailableException">No server of any cluster is selectable.</exception>
    public Peer SelectPeer(string upstream, ReadOnlySpan<char> hashKey)
    {
        var snapshot = Get(upstream);
        var context = SelectionContext.For(snapshot, hashKey);
        return Select(snapshot, ref context);
    }

    /// <summary>Picks a selectable server of an upstream for a key given as bytes, without allocating.</summary>
    /// <param name="upstream">The upstream name.</param>
    /// <param name="hashKey">The key for hashing modes.</param>
    /// <returns>The server.</returns>
    /// <exception cref="UpstreamNotFoundException">There is no such upstream.</exception>
    /// <exception cref="NoServerAvailableException">No server of any cluster is selectable.</exception>
    public Peer SelectPeer(string upstream, ReadOnlySpan<byte> hashKey)
    {
        var snapshot = Get(upstream);
        var context = SelectionContext.For(snapshot, hashKey);
        return Select(snapshot, ref context);
    }

    /// <summary>Picks a selectable server of an upstream without running a call.</summary>
    /// <param name="upstream">The upstream name.</param>
    /// <param name="hashKey">The key for hashing modes.</param>
    /// <param name="peer">The server, when one is selectable.</param>
    /// <returns>Whether the upstream exists and has a selectable server.</returns>
    public bool TrySelectPeer(string upstream, string? hashKey, [NotNullWhen(true)] out Peer? peer)
    {
        if (!TryGet(upstream, out var snapshot))
        {
            peer = null;
            return false;
        }

        var context = SelectionContext.For(snapshot, hashKey);
        peer = TryLoop.Select(snapshot, ref context);
        return peer is not null;
    }

    /// <summary>
    /// Runs <paramref name="callback"/> against a chosen server, and on failure (an exception, or a result the options
    /// classify as a failure) against another one, until it succeeds, the try limit or try timeout runs out, or no server
    /// is left (lua <c>ready_ok</c>). Cancellation through <paramref name="cancellationToken"/> is not a failure and is rethrown.
    /// </summary>
    /// <typeparam name="TResult">The callback's result type.</typeparam>
    /// <param name="upstream">The upstream name.</param>
    /// <param name="callback">The work to do against one server.</param>
    /// <param name="options">Per-call choices; an <see cref="ExecuteOptions{TResult}"/> also classifies results.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The first successful result.</returns>
    /// <exception cref="UpstreamNotFoundException">There is no such upstream.</exception>
    /// <exception cref="NoServerAvailableException">No server served the call; names every attempt.</exception>
    /// <exception cref="TryTimeoutException">The try timeout ran out; names every attempt.</exception>
    public ValueTask<TResult> ExecuteAsync<TResult>(
        string upstream,
        Func<Peer, CancellationToken, ValueTask<TResult>> callback,
        ExecuteOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return ExecuteAsync(upstream, callback, static (peer, inner, ct) => inner(peer, ct), options, cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="callback"/> with <paramref name="state"/> against a chosen server, retrying across servers as
    /// <see cref="ExecuteAsync{TResult}(string, Func{Peer, CancellationToken, ValueTask{TResult}}, ExecuteOptions?, CancellationToken)"/>
    /// does. Pass state instead of capturing it, so a static lambda allocates nothing.
    /// </summary>
    /// <typeparam name="TState">The state's type.</typeparam>
    /// <typeparam name="TResult">The callback's result type.</typeparam>
    /// <param name="upstream">The upstream name.</param>
    /// <param name="state">State passed to every attempt.</param>
    /// <param name="callback">The work to do against one server.</param>
    /// <param name="options">Per-call choices; an <see cref="ExecuteOptions{TResult}"/> also classifies results.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The first successful result.</returns>
    /// <exception cref="UpstreamNotFoundException">There is no such upstream.</exception>
    /// <exception cref="NoServerAvailableException">No server served the call; names every attempt.</exception>
    /// <exception cref="TryTimeoutException">The try timeout ran out; names every attempt.</exception>
    public ValueTask<TResult> ExecuteAsync<TState, TResult>(
        string upstream,
        TState state,
        Func<Peer, TState, CancellationToken, ValueTask<TResult>> callback,
        ExecuteOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return _tryLoop.ExecuteAsync(Get(upstream), state, callback, options, cancellationToken);
    }

    /// <summary>Reports a failed call to a server (lua <c>feedback_status</c> with failed = true).</summary>
    /// <param name="upstream">The upstream name.</param>
    /// <param name="host">The server's host.</param>
    /// <param name="port">The server's port.</param>
    /// <exception cref="UpstreamNotFoundException">There is no such upstream.</exception>
    /// <exception cref="ServerNotFoundException">The upstream has no such server.</exception>
    public void ReportFailure(string upstream, string host, int port) => Report(upstream, host, port, failed: true);

    /// <summary>Reports a successful call to a server (lua <c>feedback_status</c> with failed = false).</summary>
    /// <param name="upstream">The upstream name.</param>
    /// <param name="host">The server's host.</param>
    /// <param name="port">The server's port.</param>
    /// <exception cref="UpstreamNotFoundException">There is no such upstream.</exception>
    /// <exception cref="ServerNotFoundException">The upstream has no such server.</exception>
    public void ReportSuccess(string upstream, string host, int port) => Report(upstream, host, port, failed: false);

    /// <summary>Reports the outcome of a call to a server obtained from <see cref="SelectPeer(string, string?)"/>.</summary>
    /// <param name="peer">The server.</param>
    /// <param name="failed">Whether the call failed.</param>
    /// <exception cref="UpstreamNotFoundException">The server's upstream no longer exists.</exception>
    /// <exception cref="ServerNotFoundException">The server is no longer in its upstream.</exception>
    public void Report(Peer peer, bool failed)
    {
        ArgumentNullException.ThrowIfNull(peer);
        Report(peer.Upstream, peer.Host, peer.Port, failed);
    }

    /// <summary>Gets the connect, send and read timeouts of an upstream (lua <c>get_ups_timeout</c>).</summary>
    /// <param name="upstream">The upstream name.</param>
    /// <returns>The timeouts.</returns>
    /// <exception cref="UpstreamNotFoundException">There is no such upstream.</exception>
    public UpstreamTimeouts GetTimeouts(string upstream) => Get(upstream).Timeouts;

    /// <summary>Takes a snapshot of every upstream's servers and of the checker (lua <c>get_status</c>).</summary>
    /// <returns>The snapshot; <see cref="CheckupsStatus.ToJson"/> writes the seed's JSON shape.</returns>
    public CheckupsStatus GetStatus()
    {
        var state = Volatile.Read(ref _state);
        var result = new SortedDictionary<string, UpstreamStatus>(StringComparer.OrdinalIgnoreCase);
        foreach (var upstream in state.Upstreams.Values)
        {
            var clusters = new List<ClusterStatus>(upstream.Clusters.Length);
            foreach (var cluster in upstream.Clusters)
            {
                var peers = new List<PeerStatus>(cluster.Peers.Length);
                foreach (var peer in cluster.Peers)
                {
                    peers.Add(peer.Health.GetStatus(peer, upstream.Name, upstream.HeartbeatEnabled));
                }

                clusters.Add(new ClusterStatus(cluster.Name, peers));
            }

            result.Add(upstream.Name, new UpstreamStatus(upstream.Name, upstream.Mode, upstream.Version, clusters));
        }

        long lastCheck = Interlocked.Read(ref _lastCheckTicks);
        return new CheckupsStatus(
            result,
            lastCheck == long.MinValue ? null : new DateTimeOffset(lastCheck, TimeSpan.Zero),
            Volatile.Read(ref _heartbeatAlive) == 1,
            _startTime,
            state.Version);
    }

    /// <summary>Records the end of a heartbeat round (reported as <c>last_check_time</c>).</summary>
    internal void SetLastCheckTime(DateTimeOffset time) => Interlocked.Exchange(ref _lastCheckTicks, time.UtcTicks);

    /// <summary>Records whether the heartbeat loop runs (reported as <c>checkup_timer_alive</c>).</summary>
    internal void SetHeartbeatAlive(bool alive) => Volatile.Write(ref _heartbeatAlive, alive ? 1 : 0);

    /// <summary>Stops following configuration reloads.</summary>
    public void Dispose() => Interlocked.Exchange(ref _configurationWatch, null)?.Dispose();

    /// <summary>
    /// Applies a whole configuration: upstreams it adds or changes are rebuilt, upstreams the previous configuration
    /// had and this one lacks are removed; upstreams created through the API and unchanged ones are left alone.
    /// All or nothing: invalid options change nothing.
    /// </summary>
    internal void ApplyConfiguration(CheckupsOptions options, string prefix)
    {
        var errors = CheckupsOptionsValidator.Validate(options, prefix);
        if (errors.Count > 0)
        {
            throw new CheckupsValidationException(errors);
        }

        lock (_writeGate)
        {
            bool heartbeatChanged = _heartbeatDefault != options.HeartbeatEnabled;
            var locality = new Locality(options.LocalZone, options.PreferLocalAddresses);
            bool localityChanged = _environment.Locality != locality;
            _heartbeatDefault = options.HeartbeatEnabled;
            _environment = _environment with { Locality = locality };
            HeartbeatInterval = options.HeartbeatInterval;
            HeartbeatConcurrency = options.HeartbeatConcurrency;
            var fingerprints = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            var updated = new List<Upstream>();
            foreach (var (name, upstream) in options.Upstreams)
            {
                var source = upstream.Clone();
                string fingerprint = JsonSerializer.Serialize(source, OptionsJsonContext.Default.UpstreamOptions);
                fingerprints.Add(name, fingerprint);
                bool unchanged = _configured.TryGetValue(name, out var previous) && previous == fingerprint
                    && _state.Upstreams.ContainsKey(name) && !(heartbeatChanged && source.Heartbeat.Enabled is null) && !localityChanged;
                if (!unchanged)
                {
                    updated.Add(Build(name, source));
                }
            }

            if (heartbeatChanged || localityChanged)
            {
                // The defaults every upstream is built with changed: rebuild those created through the API too.
                foreach (var upstream in _state.Upstreams.Values)
                {
                    if (!fingerprints.ContainsKey(upstream.Name))
                    {
                        updated.Add(Build(upstream.Name, upstream.Source));
                    }
                }
            }

            var removed = new List<string>();
            foreach (var name in _configured.Keys)
            {
                if (!fingerprints.ContainsKey(name) && _state.Upstreams.ContainsKey(name))
                {
                    removed.Add(name);
                }
            }

            _configured.Clear();
            foreach (var (name, fingerprint) in fingerprints)
            {
                _configured.Add(name, fingerprint);
            }

            if (updated.Count > 0 || removed.Count > 0)
            {
                Commit(updated, removed);
            }
        }
    }

    /// <summary>Follows reloads of a configuration section through the same validated path; a bad reload is logged and ignored.</summary>
    internal void WatchConfiguration(IConfiguration configuration)
    {
        string prefix = configuration is IConfigurationSection section ? section.Path : CheckupsOptions.SectionName;
        var watch = ChangeToken.OnChange(configuration.GetReloadToken, () =>
        {
            try
            {
                ApplyConfiguration(CheckupsConfigurationReader.Read(configuration), prefix);
            }
            catch (CheckupsValidationException ex)
            {
                Log.ConfigurationReloadRejected(_logger, ex.Message, null);
            }
        });
        Interlocked.Exchange(ref _configurationWatch, watch)?.Dispose();
    }

    private void Apply(string name, UpstreamOptions source)
    {
        ArgumentNullException.ThrowIfNull(name);
        var errors = new List<string>();
        CheckupsOptionsValidator.ValidateUpstream(name, source, Path(name), _environment.Locality, CheckupsOptions.SectionName, errors);
        if (errors.Count > 0)
        {
            throw new CheckupsValidationException(errors);
        }

        lock (_writeGate)
        {
            Commit(new[] { Build(name, source) }, Array.Empty<string>());
        }
    }

    private void ReplaceClusters(string name, Action<UpstreamOptions> fill)
    {
        // Read, change and commit under the write gate, so a concurrent Update or Delete is not silently undone.
        lock (_writeGate)
        {
            var current = Get(name).Source.Clone();
            current.Servers.Clear();
            current.Clusters.Clear();
            current.NamedClusters.Clear();
            fill(current);
            Apply(name, current);
        }
    }

    private Upstream Build(string name, UpstreamOptions source)
    {
        _state.Upstreams.TryGetValue(name, out var previous);
        return UpstreamBuilder.Build(previous?.Name ?? name, source, previous, _state.Version + 1, _heartbeatDefault, _environment);
    }

    /// <summary>Swaps in a new snapshot map with one version bump. Callers hold the write gate.</summary>
    private void Commit(IReadOnlyList<Upstream> updated, IReadOnlyList<string> removed)
    {
        var next = new Dictionary<string, Upstream>(_state.Upstreams, StringComparer.OrdinalIgnoreCase);
        foreach (var upstream in updated)
        {
            next[upstream.Name] = upstream;
        }

        foreach (var name in removed)
        {
            next.Remove(name);
        }

        long version = _state.Version + 1;
        Volatile.Write(ref _state, new State(next.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase), version));

        var updatedNames = new string[updated.Count];
        for (int i = 0; i < updated.Count; i++)
        {
            updatedNames[i] = updated[i].Name;
        }

        Log.UpstreamsChanged(_logger, version, string.Join(", ", updatedNames), string.Join(", ", removed));
        try
        {
            Changed?.Invoke(this, new UpstreamsChangedEventArgs(version, updatedNames, removed));
        }
#pragma warning disable CA1031 // A subscriber's bug must not undo or hide an applied change.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.ChangeHandlerFailed(_logger, ex);
        }
    }

    private static Peer Select(Upstream snapshot, ref SelectionContext context) =>
        TryLoop.Select(snapshot, ref context)
            ?? throw new NoServerAvailableException(snapshot.Name, "no selectable server", Array.Empty<UpstreamAttempt>());

    private void Report(string upstream, string host, int port, bool failed)
    {
        ArgumentNullException.ThrowIfNull(host);
        var snapshot = Get(upstream);
        string key = Peer.FormatKey(Peer.NormalizeHost(host), port);
        bool found = false;
        foreach (var cluster in snapshot.Clusters)
        {
            foreach (var peer in cluster.Peers)
            {
                if (!string.Equals(peer.Key, key, StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                // Health is shared by every cluster holding this host:port, so it counts once;
                // the selector of each further cluster still hears of a failure.
                if (!found)
                {
                    _tryLoop.Record(snapshot, cluster, peer, new CallOutcome(failed, 0));
                    found = true;
                }
                else if (failed)
                {
                    cluster.Selector.OnCompleted(peer, new CallOutcome(true, 0));
                }
            }
        }

        if (!found)
        {
            throw new ServerNotFoundException(snapshot.Name, host, port);
        }
    }

    /// <summary>The upstreams and the version they make up, swapped as one reference.</summary>
    private sealed record State(FrozenDictionary<string, Upstream> Upstreams, long Version);

    private static string Path(string name) => $"{CheckupsOptions.SectionName}:Upstreams:{name}";
}
