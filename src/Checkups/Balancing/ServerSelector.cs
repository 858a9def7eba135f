using Checkups.Model;

namespace Checkups.Balancing;

/// <summary>
/// Picks one server of one cluster. One instance is built per cluster per topology snapshot, off the hot path,
/// so it may precompute whatever it needs (tables, rings); it is dropped when the snapshot is replaced.
/// </summary>
internal abstract class ServerSelector
{
    /// <summary>Initializes a selector; <paramref name="observesCalls"/> is fixed for its life (read on every call, so not virtual).</summary>
    protected ServerSelector(bool observesCalls = false) => ObservesCalls = observesCalls;

    /// <summary>
    /// Gets whether the selector follows every call from start to end (<see cref="OnStarted"/>, then
    /// <see cref="OnCompleted"/> with the latency). When <see langword="false"/>, only failures are reported.
    /// </summary>
    public bool ObservesCalls { get; }

    /// <summary>Picks a selectable server not yet tried in this call, or <see langword="null"/> when there is none.</summary>
    public abstract Server? Select(ref SelectionContext context);

    /// <summary>Told when a call to a server this selector picked starts (only when <see cref="ObservesCalls"/>).</summary>
    public virtual void OnStarted(Server peer)
    {
    }

    /// <summary>Told when a call to a server this cluster owns has completed, failed or been cancelled.</summary>
    public virtual void OnCompleted(Server peer, in CallOutcome outcome)
    {
    }
}

/// <summary>How one call to a server ended.</summary>
/// <param name="Failed">Whether the call failed (exception, failure result or failure status).</param>
/// <param name="ElapsedTimestamp">
/// How long the call took, in <see cref="System.TimeProvider"/> timestamp units; 0 when not measured.
/// </param>
/// <param name="Cancelled">Whether the caller cancelled the call: it counts for nothing but releases the server.</param>
/// <param name="Started">
/// Whether the selector was told of the call's start (<see cref="ServerSelector.OnStarted"/>); a report made without one
/// (<c>ReportFailure</c> after <c>SelectPeer</c>) must not release a call in flight that was never counted.
/// </param>
internal readonly record struct CallOutcome(bool Failed, long ElapsedTimestamp, bool Cancelled = false, bool Started = false);
