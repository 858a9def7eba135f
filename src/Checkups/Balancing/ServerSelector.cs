using System;
using Checkups.Model;

namespace Checkups.Balancing;

/// <summary>
/// Picks one server of one cluster: the contract of a balancing mode (<see cref="BalancingMode"/>). One instance is built
/// per cluster per topology snapshot, off the hot path, so it may precompute whatever it needs (tables, rings); it is
/// dropped when the snapshot is replaced. Picks come from many threads at once and must not block one another for long:
/// keep the state a pick reads immutable or lock-free, as the built-in selectors do.
/// </summary>
public abstract class ServerSelector
{
    /// <summary>Initializes a selector; <paramref name="observesCalls"/> is fixed for its life (read on every call, so not virtual).</summary>
    /// <param name="observesCalls">Whether <see cref="OnStarted"/> and <see cref="OnCompleted"/> hear of every call, with its latency.</param>
    protected ServerSelector(bool observesCalls = false) => ObservesCalls = observesCalls;

    /// <summary>
    /// Gets whether the selector follows every call from start to end (<see cref="OnStarted"/>, then
    /// <see cref="OnCompleted"/> with the latency). When <see langword="false"/>, only failures are reported.
    /// </summary>
    public bool ObservesCalls { get; }

    /// <summary>
    /// Picks a selectable server (<see cref="Server.IsSelectable"/>) not yet tried in this call
    /// (<see cref="SelectionContext.IsTried"/>), or <see langword="null"/> when there is none: the call then moves on to
    /// the next cluster.
    /// </summary>
    /// <param name="context">The call's key hash and the servers it tried.</param>
    /// <returns>The server, or <see langword="null"/>.</returns>
    public abstract Server? Pick(ref SelectionContext context);

    /// <summary>Told when a call to a server this selector picked starts (only when <see cref="ObservesCalls"/>).</summary>
    /// <param name="server">The server.</param>
    public virtual void OnStarted(Server server)
    {
    }

    /// <summary>Told when a call to a server of this cluster has completed, failed or been cancelled.</summary>
    /// <param name="server">The server.</param>
    /// <param name="outcome">How the call ended.</param>
    public virtual void OnCompleted(Server server, in CallOutcome outcome)
    {
    }
}

/// <summary>How one call to a server ended, as a <see cref="ServerSelector"/> hears of it.</summary>
public readonly struct CallOutcome
{
    internal CallOutcome(bool failed, long elapsedTimestamp, bool cancelled = false, bool started = false)
    {
        Failed = failed;
        ElapsedTimestamp = elapsedTimestamp;
        Cancelled = cancelled;
        Started = started;
    }

    /// <summary>Gets whether the call failed (exception, failure result or failure status).</summary>
    public bool Failed { get; }

    /// <summary>Gets how long the call took, in the registry's <see cref="TimeProvider"/> timestamp units; 0 when not measured.</summary>
    public long ElapsedTimestamp { get; }

    /// <summary>Gets whether the caller cancelled the call: it counts for nothing but releases the server.</summary>
    public bool Cancelled { get; }

    /// <summary>
    /// Gets whether the selector was told of the call's start (<see cref="ServerSelector.OnStarted"/>); a report made
    /// without one (<c>ReportFailure</c> after <c>SelectPeer</c>) must not release a call in flight that was never counted.
    /// </summary>
    public bool Started { get; }
}
