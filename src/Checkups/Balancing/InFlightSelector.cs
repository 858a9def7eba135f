using System.Threading;
using Checkups.Model;

namespace Checkups.Balancing;

/// <summary>
/// A selector that follows every call: it keeps its cluster's count of calls in flight (each server's own count,
/// <c>ServerHealth.InFlight</c>, is kept by the try loop and leases for every mode).
/// </summary>
internal abstract class InFlightSelector : ServerSelector
{
    private int _inFlight;

    /// <summary>Initializes a selector that follows calls (or, with <paramref name="observesCalls"/> false, only hears of failures).</summary>
    protected InFlightSelector(bool observesCalls = true)
        : base(observesCalls)
    {
    }

    /// <summary>Gets the calls in flight that this selector started.</summary>
    protected int ClusterInFlight => Volatile.Read(ref _inFlight);

    public override void OnStarted(Server server)
    {
        Interlocked.Increment(ref _inFlight);
    }

    public sealed override void OnCompleted(Server server, in CallOutcome outcome)
    {
        if (outcome.Started)
        {
            Interlocked.Decrement(ref _inFlight);
            OnReleased(server);
        }

        if (!outcome.Cancelled)
        {
            OnCallCompleted(server, outcome);
        }
    }

    /// <summary>Told when a call this selector counted has ended, however it ended (cancelled too).</summary>
    protected virtual void OnReleased(Server server)
    {
    }

    /// <summary>Told of a call that completed or failed (not of cancelled ones).</summary>
    protected virtual void OnCallCompleted(Server server, in CallOutcome outcome)
    {
    }
}
