using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using Checkups.Balancing;
using Checkups.Configuration;
using Checkups.Model;

namespace Checkups.Execution;

/// <summary>
/// One call over an upstream, run step by step by a caller that does its own I/O (an HttpClient handler, a proxy, a gRPC
/// picker): the attempt engine that <c>ExecuteAsync</c> runs on too. Each <see cref="TryNext"/> applies lua-resty-checkups'
/// try loop (the try limit, the try timeout, the cluster order, the servers already tried, and the caller's
/// <see cref="IRetryGate"/>) and gives a lease on the next server; the lease's completion feeds passive health, latency
/// and the selector, and is remembered; when no attempt is left, <see cref="ToException"/> says why, naming every attempt.
/// </summary>
/// <remarks>
/// <para>
/// Get one from <c>UpstreamRegistry.BeginCall</c>, complete each lease before asking for the next, and dispose the call
/// when done (a lease still open is then released as cancelled). The upstream's name is looked up and the hash key hashed
/// once per call, not per attempt. Calls are pooled: beginning, attempting and ending a call allocates nothing once warm,
/// and a disposed call must not be used again.
/// </para>
/// <para>
/// A retry picks from the upstream as it is then: when a change replaced it during the call, from its first cluster on,
/// skipping the servers this call tried (matched by host and port).
/// </para>
/// </remarks>
public sealed class UpstreamCall : IDisposable
{
    /// <summary>The shortest attempt the rest of a try timeout gives (a timer below a millisecond is not kept).</summary>
    private static readonly TimeSpan MinimumAttempt = TimeSpan.FromMilliseconds(1);

    /// <summary>The longest a timer takes (<see cref="CancellationTokenSource.CancelAfter(TimeSpan)"/>'s limit); longer is no timer.</summary>
    private static readonly TimeSpan LongestTimer = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private static readonly ObjectPool<UpstreamCall> Pool = new(static () => new UpstreamCall());

    // One per thread in front of the pool: a call begun and ended on one thread costs no interlocked operation.
    [ThreadStatic]
    private static UpstreamCall? t_cached;

    private readonly CallToken _token;
    private TryLoop _engine = null!;
    private Upstream _upstream = null!;
    private IReadOnlyList<string>? _order;
    private IRetryGate? _gate;
    private SelectionContext _context;
    private char[] _key = Array.Empty<char>();
    private int _keyLength;
    private int _position;
    private Cluster? _cluster;
    private int _tryLimit;
    private TimeSpan? _tryTimeout;
    private long _started;
    private int _attempts;
    private CallState _state = CallState.Disposed;
    private CallStopReason _stop;
    private string? _stopDetail;
    private List<UpstreamAttempt>? _failed;
    private List<Server>? _tried;

    // The attempt out on lease: what its completion reports, and its timer.
    private Upstream? _leaseUpstream;
    private Cluster? _leaseCluster;
    private Server? _leaseServer;
    private long _leaseStarted;
    private CancellationTokenSource? _timer;
    private CancellationTokenRegistration _callerRegistration;
    private TimeSpan _attemptTimeout;
    private bool _attemptCut;

    private UpstreamCall() => _token = new CallToken(this);

    private enum CallState
    {
        Ready,
        LeaseOut,
        Succeeded,
        Cancelled,
        Stopped,
        Disposed,
    }

    /// <summary>Gets the upstream the last attempt was picked from (a change during the call replaces it).</summary>
    public Upstream Upstream => _upstream;

    /// <summary>Gets how many attempts the call has begun.</summary>
    public int Attempts => _attempts;

    /// <summary>Gets how many servers the call may try.</summary>
    public int TryLimit => _tryLimit;

    /// <summary>Gets the try timeout of the call; <see langword="null"/> for none.</summary>
    public TimeSpan? TryTimeout => _tryTimeout;

    /// <summary>Gets the time since the call began, on the registry's clock.</summary>
    public TimeSpan Elapsed => _engine.Time.GetElapsedTime(_started);

    /// <summary>Gets what is left of the try timeout (never negative); <see langword="null"/> when there is none.</summary>
    public TimeSpan? Remaining => _tryTimeout is { } limit ? (limit - Elapsed is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero) : null;

    /// <summary>Gets the failed attempts so far, in order.</summary>
    public IReadOnlyList<UpstreamAttempt> FailedAttempts => (IReadOnlyList<UpstreamAttempt>?)_failed ?? Array.Empty<UpstreamAttempt>();

    /// <summary>Gets why the call stopped without a server serving it; <see langword="null"/> while it goes on, or when it succeeded or was cancelled.</summary>
    public CallStopReason? StopReason => _state == CallState.Stopped ? _stop : null;

    /// <summary>Gets whether an attempt succeeded.</summary>
    public bool Succeeded => _state == CallState.Succeeded;

    /// <summary>
    /// Gets the lease out on the current attempt (the one <see cref="TryNext"/> gave), or <see langword="default"/> when none
    /// is out: an embedder that awaits the attempt's I/O may keep only the call across the await, not the lease as well.
    /// </summary>
    public UpstreamLease Lease => _state == CallState.LeaseOut ? new UpstreamLease(_leaseServer!, _token) : default;

    /// <summary>Gets whether the current attempt's timer (see <see cref="StartAttemptTimeout"/>) has run out.</summary>
    public bool AttemptTimedOut => _timer is { IsCancellationRequested: true };

    /// <summary>Begins a call on the engine of a registry.</summary>
    internal static UpstreamCall Begin(TryLoop engine, Upstream upstream, ReadOnlySpan<char> hashKey, in CallSettings settings)
    {
        if (settings.Try is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(settings), settings.Try, "Try must be at least 1.");
        }

        var call = t_cached;
        if (call is not null)
        {
            t_cached = null;
        }
        else
        {
            call = Pool.Rent();
        }

        call._engine = engine;
        call._upstream = upstream;
        call._order = settings.ClusterOrder;
        call._gate = settings.RetryGate;
        call._tryLimit = settings.Try ?? upstream.Try;
        call._tryTimeout = settings.TryTimeout is { } perCall ? CheckupsOptionsValidator.EffectiveTryTimeout(perCall) : upstream.TryTimeout;
        call._started = call._tryTimeout.HasValue ? engine.Time.GetTimestamp() : 0;
        call._context = SelectionContext.For(upstream, hashKey);
        if (!hashKey.IsEmpty)
        {
            // Kept for a retry on a replaced upstream, whose selectors may hash the key another way.
            if (call._key.Length < hashKey.Length)
            {
                call._key = new char[Math.Max(hashKey.Length, 32)];
            }

            hashKey.CopyTo(call._key);
        }

        call._keyLength = hashKey.Length;
        call._position = 0;
        call._cluster = null;
        call._attempts = 0;
        call._state = CallState.Ready;
        return call;
    }

    /// <summary>
    /// The first attempt of a call without a call object (most calls succeed at once): the pick <see cref="TryNext"/>
    /// would make first, counted in flight. Complete it through the engine on success, or <see cref="Adopt"/> it into a
    /// call for anything else. <see langword="null"/> when no server is selectable (begin a call to get its error).
    /// </summary>
    /// <remarks>Not inlined: inlined, its locals made <c>ExecuteAsync</c>'s frame (cleared on every call) half as large again.</remarks>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    internal static Server? First(TryLoop engine, Upstream upstream, ReadOnlySpan<char> hashKey, in CallSettings settings, out FirstAttempt first)
    {
        if (settings.Try is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(settings), settings.Try, "Try must be at least 1.");
        }

        first = default;
        first.Upstream = upstream;
        first.TryTimeout = settings.TryTimeout is { } perCall ? CheckupsOptionsValidator.EffectiveTryTimeout(perCall) : upstream.TryTimeout;
        first.CallStarted = first.TryTimeout.HasValue ? engine.Time.GetTimestamp() : 0;
        first.Context = SelectionContext.For(upstream, hashKey);
        var server = TryLoop.NextServer(upstream, settings.ClusterOrder, ref first.Position, ref first.Cluster, ref first.Context, null);
        if (server is not null)
        {
            first.Server = server;
            first.Started = engine.Start(first.Cluster!, server);
        }

        return server;
    }

    /// <summary>A call whose first attempt, made by <see cref="First"/>, is out on the lease returned: the rest runs as any call.</summary>
    internal static UpstreamCall Adopt(TryLoop engine, in FirstAttempt first, ReadOnlySpan<char> hashKey, in CallSettings settings, out UpstreamLease lease)
    {
        var call = Begin(engine, first.Upstream, hashKey, settings);
        call._tryTimeout = first.TryTimeout;
        call._started = first.CallStarted;
        call._context = first.Context;
        call._position = first.Position;
        call._cluster = first.Cluster;
        call._attempts = 1;
        call._leaseUpstream = first.Upstream;
        call._leaseCluster = first.Cluster;
        call._leaseServer = first.Server;
        call._leaseStarted = first.Started;
        call._state = CallState.LeaseOut;
        lease = new UpstreamLease(first.Server!, call._token);
        return call;
    }

    /// <summary>
    /// Gives a lease on the next server to try, or says the call is over: <see langword="false"/> when an attempt already
    /// succeeded, the call was cancelled, or it stopped (<see cref="StopReason"/>; then <see cref="ToException"/>).
    /// </summary>
    /// <param name="lease">The lease on the server; complete it before asking again.</param>
    /// <returns>Whether there is a server to try.</returns>
    /// <exception cref="InvalidOperationException">The previous attempt's lease has not been completed.</exception>
    /// <exception cref="ObjectDisposedException">The call was disposed.</exception>
    public bool TryNext(out UpstreamLease lease)
    {
        lease = default;
        switch (_state)
        {
            case CallState.LeaseOut:
                throw new InvalidOperationException("The lease of the previous attempt must be completed before the next attempt.");
            case CallState.Disposed:
                throw new ObjectDisposedException(nameof(UpstreamCall));
            case CallState.Succeeded or CallState.Cancelled or CallState.Stopped:
                return false;
        }

        if (_attempts > 0)
        {
            // The order of lua's ready_ok: the try limit, then the try timeout; then the caller's gate, so a retry that
            // would not be made anyway takes nothing from it; then the upstream as it is now.
            if (_attempts >= _tryLimit)
            {
                return Stop(CallStopReason.TryLimitReached, string.Create(CultureInfo.InvariantCulture, $"try limit of {_tryLimit} reached"));
            }

            if (_tryTimeout is { } limit && Elapsed >= limit)
            {
                return Stop(CallStopReason.TryTimeoutExceeded, null);
            }

            if (_gate is { } gate && !gate.TryAcquireRetry(this))
            {
                return Stop(CallStopReason.RetryRefused, gate.RefusalReason);
            }

            var latest = _engine.Latest(_upstream);
            if (latest is null)
            {
                return Stop(CallStopReason.UpstreamRemoved, "the upstream was removed during the call");
            }

            if (!ReferenceEquals(latest, _upstream))
            {
                _upstream = latest;
                _position = 0;
                _cluster = null;
                _context = SelectionContext.For(latest, _key.AsSpan(0, _keyLength));
            }
        }

        var server = TryLoop.NextServer(_upstream, _order, ref _position, ref _cluster, ref _context, _tried);
        if (server is null)
        {
            return _attempts == 0
                ? Stop(CallStopReason.NoSelectableServer, NoSelectableServer(_order))
                : Stop(CallStopReason.EveryServerTried, "every selectable server was tried");
        }

        _attempts++;
        _leaseUpstream = _upstream;
        _leaseCluster = _cluster!;
        _leaseServer = server;
        _leaseStarted = _engine.Start(_cluster!, server);
        _state = CallState.LeaseOut;
        lease = new UpstreamLease(server, _token);
        return true;
    }

    /// <summary>
    /// Starts the timeout of the attempt out on lease: the token is cancelled after <paramref name="attemptTimeout"/>, or
    /// when what is left of the try timeout runs out if that comes first (no attempt outlives the try timeout), or when
    /// <paramref name="cancellationToken"/> is. The timer is stopped and reused when the lease completes, so an attempt
    /// costs no timer of its own.
    /// </summary>
    /// <param name="attemptTimeout">The attempt's own timeout; <see cref="Timeout.InfiniteTimeSpan"/> for none.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>The token for the attempt's I/O.</returns>
    /// <exception cref="InvalidOperationException">No lease is out, or its timeout was already started.</exception>
    public CancellationToken StartAttemptTimeout(TimeSpan attemptTimeout, CancellationToken cancellationToken = default)
    {
        if (_state != CallState.LeaseOut || _timer is not null)
        {
            throw new InvalidOperationException(_state != CallState.LeaseOut
                ? "An attempt's timeout starts while its lease is out."
                : "The attempt's timeout was already started.");
        }

        var timeout = attemptTimeout == Timeout.InfiniteTimeSpan || attemptTimeout > LongestTimer ? LongestTimer : attemptTimeout;
        _attemptCut = false;
        if (Remaining is { } remaining && remaining < timeout)
        {
            timeout = remaining > MinimumAttempt ? remaining : MinimumAttempt;
            _attemptCut = true;
        }

        _attemptTimeout = timeout;
        var timer = _engine.Timers.Rent();
        if (timeout < LongestTimer)
        {
            timer.CancelAfter(timeout);
        }

        if (cancellationToken.CanBeCanceled)
        {
            _callerRegistration = cancellationToken.UnsafeRegister(static source => ((CancellationTokenSource)source!).Cancel(), timer);
        }

        _timer = timer;
        return timer.Token;
    }

    /// <summary>
    /// Stops the current attempt's timer (see <see cref="StartAttemptTimeout"/>) once the server's response has begun: the
    /// timeout bounds the wait for an answer, not a body streamed for minutes or an upgraded connection. The caller's
    /// token still cancels the attempt's token. Does nothing when no timer runs or it has already fired.
    /// </summary>
    public void StopAttemptTimeout()
    {
        if (_state == CallState.LeaseOut && _timer is { IsCancellationRequested: false } timer)
        {
            timer.CancelAfter(Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>
    /// The error of an attempt that ended at the timeout <see cref="StartAttemptTimeout"/> started: it names the server and
    /// the timeout, and says when the try timeout cut the attempt short.
    /// </summary>
    /// <param name="inner">What the attempt's I/O threw.</param>
    /// <returns>The error, to complete the lease with.</returns>
    public TimeoutException CreateAttemptTimeoutError(Exception? inner = null)
    {
        string server = _leaseServer?.Key ?? "the server";
        return new TimeoutException(_attemptCut
            ? string.Create(CultureInfo.InvariantCulture, $"no response from {server} within {_attemptTimeout.TotalMilliseconds:0} ms, the rest of the try timeout of {_tryTimeout!.Value.TotalMilliseconds:0} ms")
            : string.Create(CultureInfo.InvariantCulture, $"no response from {server} within {_attemptTimeout.TotalMilliseconds:0} ms"), inner);
    }

    /// <summary>The exception that says why the call stopped, naming the upstream and every attempt.</summary>
    /// <param name="lastResult">The last attempt's result, when a result was classified as a failure.</param>
    /// <returns>A <see cref="TryTimeoutException"/> when the try timeout ran out, else a <see cref="NoServerAvailableException"/>.</returns>
    /// <exception cref="InvalidOperationException">The call has not stopped.</exception>
    public UpstreamCallException ToException(object? lastResult = null)
    {
        if (_state != CallState.Stopped)
        {
            throw new InvalidOperationException("The call has not stopped; there is no failure to report.");
        }

        UpstreamAttempt[] attempts = _failed is null ? Array.Empty<UpstreamAttempt>() : _failed.ToArray();
        return _stop == CallStopReason.TryTimeoutExceeded
            ? new TryTimeoutException(_upstream.Name, _tryTimeout!.Value, attempts) { LastResult = lastResult }
            : new NoServerAvailableException(_upstream.Name, _stop, _stopDetail!, attempts) { LastResult = lastResult };
    }

    /// <summary>Ends the call: a lease still out is released as cancelled, and the call goes back to the pool.</summary>
    public void Dispose()
    {
        if (_state == CallState.Disposed)
        {
            return;
        }

        if (_state == CallState.LeaseOut)
        {
            // Copies of the lease become inert; the server is released without a verdict.
            Interlocked.Increment(ref _token.Generation);
            Completed(LeaseOutcome.Cancelled, null, null);
        }

        // Every lease given was completed (which moved the generation on) or was just released above: none can complete now.
        ReleaseTimer();
        _state = CallState.Disposed;

        // References only: what a pooled call holds must not keep a replaced upstream or a caller's objects alive. The
        // rest is set by the next Begin.
        _upstream = null!;
        _order = null;
        _gate = null;
        _cluster = null;
        _stopDetail = null;
        _failed?.Clear();
        _tried?.Clear();
        _leaseUpstream = null;
        _leaseCluster = null;
        _leaseServer = null;
        if (t_cached is null)
        {
            t_cached = this;
        }
        else
        {
            Pool.Return(this);
        }
    }

    /// <summary>The lease's completion: health and the selector first, then what the call remembers of the attempt.</summary>
    internal void Completed(LeaseOutcome outcome, TimeSpan? elapsed, Exception? error)
    {
        ReleaseTimer();
        var server = _leaseServer!;
        var cluster = _leaseCluster!;
        _engine.Complete(_leaseUpstream!, cluster, server, _leaseStarted, outcome, elapsed);
        _leaseServer = null;
        switch (outcome)
        {
            case LeaseOutcome.Success:
                _state = CallState.Succeeded;
                break;
            case LeaseOutcome.Cancelled:
                _state = CallState.Cancelled;
                break;
            default:
                (_failed ??= new List<UpstreamAttempt>()).Add(new UpstreamAttempt(server, error));
                (_tried ??= new List<Server>()).Add(server);
                if (ReferenceEquals(cluster, _cluster))
                {
                    _context.Tried.Add(server.Index);
                }

                _state = CallState.Ready;
                break;
        }
    }

    /// <summary>Why a call found no server to try first, naming the clusters it was limited to.</summary>
    internal static string NoSelectableServer(IReadOnlyList<string>? order) =>
        order is null ? "no selectable server" : $"no selectable server in clusters [{string.Join(", ", order)}]";

    private bool Stop(CallStopReason reason, string? detail)
    {
        _stop = reason;
        _stopDetail = detail;
        _state = CallState.Stopped;
        return false;
    }

    private void ReleaseTimer()
    {
        if (_timer is { } timer)
        {
            // Unregistered first (waiting for a cancel in progress), so a timer the caller cancelled is never reused.
            _callerRegistration.Dispose();
            _callerRegistration = default;
            _timer = null;
            _engine.Timers.Return(timer);
        }
    }

    /// <summary>The first attempt of a call made without a call object (<see cref="First"/>).</summary>
    internal struct FirstAttempt
    {
        public Upstream Upstream;
        public Cluster? Cluster;
        public Server? Server;
        public SelectionContext Context;
        public TimeSpan? TryTimeout;
        public long CallStarted;
        public long Started;
        public int Position;
    }

    /// <summary>The guard of this call's leases: one per call, its generation moved on by each completion.</summary>
    internal sealed class CallToken(UpstreamCall call) : LeaseToken
    {
        public UpstreamCall Call { get; } = call;
    }
}
