using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Balancing;
using Checkups.Execution;
using Checkups.Model;

namespace Checkups.Registry;

/// <summary>Calls: pick a server, lease one, run a call with retries, report outcomes. One picking routine serves all.</summary>
public sealed partial class UpstreamRegistry
{
    /// <summary>Picks a selectable server of an upstream without running a call (lua <c>select_peer</c>).</summary>
    /// <param name="upstream">The upstream name.</param>
    /// <param name="hashKey">The key for hashing modes.</param>
    /// <returns>The server.</returns>
    /// <exception cref="UpstreamNotFoundException">There is no such upstream.</exception>
    /// <exception cref="NoServerAvailableException">No server of any cluster is selectable.</exception>
    public Server SelectPeer(string upstream, string? hashKey = null)
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
    public Server SelectPeer(string upstream, ReadOnlySpan<char> hashKey)
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
    public Server SelectPeer(string upstream, ReadOnlySpan<byte> hashKey)
    {
        var snapshot = Get(upstream);
        var context = SelectionContext.For(snapshot, hashKey);
        return Select(snapshot, ref context);
    }

    /// <summary>Picks a selectable server of an upstream without running a call.</summary>
    /// <param name="upstream">The upstream name.</param>
    /// <param name="hashKey">The key for hashing modes.</param>
    /// <param name="server">The server, when one is selectable.</param>
    /// <returns>Whether the upstream exists and has a selectable server.</returns>
    public bool TrySelectPeer(string upstream, string? hashKey, [NotNullWhen(true)] out Server? server)
    {
        server = null;
        if (!TryGet(upstream, out var snapshot))
        {
            return false;
        }

        var context = SelectionContext.For(snapshot, hashKey);
        server = TryLoop.Select(snapshot, null, ref context, null, out _);
        return server is not null;
    }

    /// <summary>
    /// Acquires a server of an upstream for one call the caller makes itself. Complete the lease once with the outcome:
    /// the call counts in flight meanwhile, and its outcome and latency reach passive health and the selector as a try-loop
    /// attempt's do. To retry, acquire again passing the servers already tried: the pick comes from the current snapshot,
    /// moving to the next cluster when the current one has no untried server.
    /// </summary>
    /// <param name="upstream">The upstream name.</param>
    /// <param name="options">The hash key and cluster order (<see cref="ExecuteOptions.HashKey"/>, <see cref="ExecuteOptions.ClusterOrder"/>).</param>
    /// <param name="tried">The servers already tried in this call.</param>
    /// <returns>The lease.</returns>
    /// <exception cref="UpstreamNotFoundException">There is no such upstream.</exception>
    /// <exception cref="NoServerAvailableException">No selectable server is left.</exception>
    public UpstreamLease AcquireLease(string upstream, ExecuteOptions? options = null, IReadOnlyList<Server>? tried = null)
    {
        var snapshot = Get(upstream);
        var context = SelectionContext.For(snapshot, options?.HashKey);
        return Lease(snapshot, options?.ClusterOrder, ref context, tried);
    }

    /// <summary>Acquires a server for a call keyed by characters (hashed as UTF-8), without allocating; see <see cref="AcquireLease(string, ExecuteOptions?, IReadOnlyList{Server}?)"/>.</summary>
    /// <param name="upstream">The upstream name.</param>
    /// <param name="hashKey">The key for hashing modes; empty for none.</param>
    /// <param name="tried">The servers already tried in this call.</param>
    /// <returns>The lease.</returns>
    /// <exception cref="UpstreamNotFoundException">There is no such upstream.</exception>
    /// <exception cref="NoServerAvailableException">No selectable server is left.</exception>
    public UpstreamLease AcquireLease(string upstream, ReadOnlySpan<char> hashKey, IReadOnlyList<Server>? tried = null)
    {
        var snapshot = Get(upstream);
        var context = SelectionContext.For(snapshot, hashKey);
        return Lease(snapshot, null, ref context, tried);
    }

    /// <summary>Acquires a server for a call when one is selectable; see <see cref="AcquireLease(string, ExecuteOptions?, IReadOnlyList{Server}?)"/>.</summary>
    /// <param name="upstream">The upstream name.</param>
    /// <param name="hashKey">The key for hashing modes; empty for none.</param>
    /// <param name="tried">The servers already tried in this call.</param>
    /// <param name="lease">The lease, when a server was acquired.</param>
    /// <returns>Whether the upstream exists and a server was acquired.</returns>
    public bool TryAcquireLease(string upstream, ReadOnlySpan<char> hashKey, IReadOnlyList<Server>? tried, out UpstreamLease lease) =>
        TryAcquireLease(upstream, hashKey, null, tried, out lease);

    /// <summary>
    /// Acquires a server for a call keyed by characters, trying clusters in <paramref name="clusterOrder"/>, when one is
    /// selectable, without allocating; see <see cref="AcquireLease(string, ExecuteOptions?, IReadOnlyList{Server}?)"/>.
    /// </summary>
    /// <param name="upstream">The upstream name.</param>
    /// <param name="hashKey">The key for hashing modes; empty for none.</param>
    /// <param name="clusterOrder">Cluster names or level numbers in the order to try them; <see langword="null"/> for the default.</param>
    /// <param name="tried">The servers already tried in this call.</param>
    /// <param name="lease">The lease, when a server was acquired.</param>
    /// <returns>Whether the upstream exists and a server was acquired.</returns>
    public bool TryAcquireLease(string upstream, ReadOnlySpan<char> hashKey, IReadOnlyList<string>? clusterOrder, IReadOnlyList<Server>? tried, out UpstreamLease lease)
    {
        lease = default;
        if (!TryGet(upstream, out var snapshot))
        {
            return false;
        }

        var context = SelectionContext.For(snapshot, hashKey);
        var server = TryLoop.Select(snapshot, clusterOrder, ref context, tried, out var cluster);
        if (server is null)
        {
            return false;
        }

        lease = _tryLoop.Lease(snapshot, cluster!, server);
        return true;
    }

    /// <summary>
    /// Begins one call over an upstream for a caller that runs its own I/O: the attempt engine. Each
    /// <see cref="UpstreamCall.TryNext"/> gives a lease on the next server the try loop's rules allow (try limit, try
    /// timeout, cluster order, servers already tried, <see cref="CallSettings.RetryGate"/>); complete each lease with its
    /// outcome, and when none is left, <see cref="UpstreamCall.ToException"/> says why. Dispose the call when done.
    /// </summary>
    /// <param name="upstream">The upstream name, looked up once for the call.</param>
    /// <param name="hashKey">The key for hashing modes, hashed once for the call; empty for none.</param>
    /// <param name="settings">Per-call choices; <see langword="default"/> for the upstream's own.</param>
    /// <returns>The call; pooled: do not use it after disposing it.</returns>
    /// <exception cref="UpstreamNotFoundException">There is no such upstream.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="CallSettings.Try"/> is below 1.</exception>
    public UpstreamCall BeginCall(string upstream, ReadOnlySpan<char> hashKey, in CallSettings settings) =>
        UpstreamCall.Begin(_tryLoop, Get(upstream), hashKey, settings);

    /// <summary>
    /// Begins one call over a snapshot already looked up (<see cref="Get"/>, <see cref="TryGet"/>), so a caller that needed
    /// the upstream first (its mode, to choose the hash key) does not look it up twice; retries pick from the upstream as
    /// it is then. See <see cref="BeginCall(string, ReadOnlySpan{char}, in CallSettings)"/>.
    /// </summary>
    /// <param name="upstream">A snapshot of an upstream of this registry.</param>
    /// <param name="hashKey">The key for hashing modes, hashed once for the call; empty for none.</param>
    /// <param name="settings">Per-call choices; <see langword="default"/> for the upstream's own.</param>
    /// <returns>The call; pooled: do not use it after disposing it.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="upstream"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="CallSettings.Try"/> is below 1.</exception>
    public UpstreamCall BeginCall(Upstream upstream, ReadOnlySpan<char> hashKey, in CallSettings settings)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        return UpstreamCall.Begin(_tryLoop, upstream, hashKey, settings);
    }

    /// <summary>Begins one call over an upstream, with the choices of <paramref name="options"/> (its hash key included); see <see cref="BeginCall(string, ReadOnlySpan{char}, in CallSettings)"/>.</summary>
    /// <param name="upstream">The upstream name, looked up once for the call.</param>
    /// <param name="options">Per-call choices; <see langword="null"/> for the upstream's own.</param>
    /// <returns>The call; pooled: do not use it after disposing it.</returns>
    /// <exception cref="UpstreamNotFoundException">There is no such upstream.</exception>
    public UpstreamCall BeginCall(string upstream, ExecuteOptions? options = null) =>
        UpstreamCall.Begin(_tryLoop, Get(upstream), options?.HashKey, CallSettings.From(options));

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
    /// <returns>The first successful result. Await it once (it may be backed by a pooled object), as any <see cref="ValueTask{TResult}"/>.</returns>
    /// <exception cref="UpstreamNotFoundException">There is no such upstream.</exception>
    /// <exception cref="NoServerAvailableException">No server served the call; names every attempt.</exception>
    /// <exception cref="TryTimeoutException">The try timeout ran out; names every attempt.</exception>
    public ValueTask<TResult> ExecuteAsync<TResult>(
        string upstream,
        Func<Server, CancellationToken, ValueTask<TResult>> callback,
        ExecuteOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return ExecuteAsync(upstream, callback, static (server, inner, ct) => inner(server, ct), options, cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="callback"/> with <paramref name="state"/> against a chosen server, retrying across servers as
    /// <see cref="ExecuteAsync{TResult}(string, Func{Server, CancellationToken, ValueTask{TResult}}, ExecuteOptions?, CancellationToken)"/>
    /// does. Pass state instead of capturing it, so a static lambda allocates nothing.
    /// </summary>
    /// <typeparam name="TState">The state's type.</typeparam>
    /// <typeparam name="TResult">The callback's result type.</typeparam>
    /// <param name="upstream">The upstream name.</param>
    /// <param name="state">State passed to every attempt.</param>
    /// <param name="callback">The work to do against one server.</param>
    /// <param name="options">Per-call choices; an <see cref="ExecuteOptions{TResult}"/> also classifies results.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The first successful result. Await it once (it may be backed by a pooled object), as any <see cref="ValueTask{TResult}"/>.</returns>
    /// <exception cref="UpstreamNotFoundException">There is no such upstream.</exception>
    /// <exception cref="NoServerAvailableException">No server served the call; names every attempt.</exception>
    /// <exception cref="TryTimeoutException">The try timeout ran out; names every attempt.</exception>
    public ValueTask<TResult> ExecuteAsync<TState, TResult>(
        string upstream,
        TState state,
        Func<Server, TState, CancellationToken, ValueTask<TResult>> callback,
        ExecuteOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return _tryLoop.ExecuteAsync(Get(upstream), state, callback, options, options?.HashKey, cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="callback"/> with <paramref name="state"/> as
    /// <see cref="ExecuteAsync{TState, TResult}(string, TState, Func{Server, TState, CancellationToken, ValueTask{TResult}}, ExecuteOptions?, CancellationToken)"/>
    /// does, balancing by <paramref name="hashKey"/> in hashing modes: a keyed call that shares its
    /// <paramref name="options"/> with every other call, so it allocates nothing for the key.
    /// </summary>
    /// <typeparam name="TState">The state's type.</typeparam>
    /// <typeparam name="TResult">The callback's result type.</typeparam>
    /// <param name="upstream">The upstream name.</param>
    /// <param name="hashKey">
    /// The key hashing modes balance by, used instead of <see cref="ExecuteOptions.HashKey"/>; <see langword="null"/> or
    /// empty is no key (round robin).
    /// </param>
    /// <param name="state">State passed to every attempt.</param>
    /// <param name="callback">The work to do against one server.</param>
    /// <param name="options">Per-call choices other than the key; share one instance between calls.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The first successful result. Await it once (it may be backed by a pooled object), as any <see cref="ValueTask{TResult}"/>.</returns>
    /// <exception cref="UpstreamNotFoundException">There is no such upstream.</exception>
    /// <exception cref="NoServerAvailableException">No server served the call; names every attempt.</exception>
    /// <exception cref="TryTimeoutException">The try timeout ran out; names every attempt.</exception>
    public ValueTask<TResult> ExecuteAsync<TState, TResult>(
        string upstream,
        string? hashKey,
        TState state,
        Func<Server, TState, CancellationToken, ValueTask<TResult>> callback,
        ExecuteOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return _tryLoop.ExecuteAsync(Get(upstream), state, callback, options, hashKey, cancellationToken);
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
    /// <param name="server">The server.</param>
    /// <param name="failed">Whether the call failed.</param>
    /// <exception cref="UpstreamNotFoundException">The server's upstream no longer exists.</exception>
    /// <exception cref="ServerNotFoundException">The server is no longer in its upstream.</exception>
    public void Report(Server server, bool failed)
    {
        ArgumentNullException.ThrowIfNull(server);
        Report(server.Upstream, server.Host, server.Port, failed);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private UpstreamLease Lease(Upstream snapshot, IReadOnlyList<string>? order, ref SelectionContext context, IReadOnlyList<Server>? tried)
    {
        var server = TryLoop.Select(snapshot, order, ref context, tried, out var cluster);
        if (server is null)
        {
            ThrowNoServerLeft(snapshot, tried);
        }

        return _tryLoop.Lease(snapshot, cluster!, server);
    }

    [DoesNotReturn]
    private static void ThrowNoServerLeft(Upstream snapshot, IReadOnlyList<Server>? tried) =>
        throw new NoServerAvailableException(
            snapshot.Name,
            tried is { Count: > 0 } ? CallStopReason.EveryServerTried : CallStopReason.NoSelectableServer,
            tried is { Count: > 0 } ? $"no selectable server left after {tried.Count} tried" : "no selectable server",
            Array.Empty<UpstreamAttempt>());

    private static Server Select(Upstream snapshot, ref SelectionContext context) =>
        TryLoop.Select(snapshot, null, ref context, null, out _)
            ?? throw new NoServerAvailableException(snapshot.Name, CallStopReason.NoSelectableServer, "no selectable server", Array.Empty<UpstreamAttempt>());

    private void Report(string upstream, string host, int port, bool failed)
    {
        ArgumentNullException.ThrowIfNull(host);
        var snapshot = Get(upstream);
        string key = Server.FormatKey(Server.NormalizeHost(host), port);
        bool found = false;
        foreach (var cluster in snapshot.Clusters)
        {
            foreach (var server in cluster.Servers)
            {
                if (!string.Equals(server.Key, key, StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                // Health is shared by every cluster holding this host:port, so it counts once;
                // the selector of each further cluster still hears of a failure.
                if (!found)
                {
                    _tryLoop.Record(snapshot, cluster, server, new CallOutcome(failed, 0));
                    found = true;
                }
                else if (failed)
                {
                    cluster.Selector.OnCompleted(server, new CallOutcome(true, 0));
                }
            }
        }

        if (!found)
        {
            throw new ServerNotFoundException(snapshot.Name, host, port);
        }
    }
}
