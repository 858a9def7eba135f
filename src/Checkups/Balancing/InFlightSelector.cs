using System.Threading;
using Checkups.Model;

namespace Checkups.Balancing;

/// <summary>A selector that follows every call: it keeps each server's and its cluster's count of calls in flight.</summary>
internal abstract class InFlightSelector : PeerSelector
{
    private int _inFlight;

    public override bool ObservesCalls => true;

    /// <summary>Gets the calls in flight that this selector started.</summary>
    protected int ClusterInFlight => Volatile.Read(ref _inFlight);

    public override void OnStarted(Peer peer)
    {
        peer.Health.CallStarted();
        Interlocked.Increment(ref _inFlight);
    }

    public sealed override void OnCompleted(Peer peer, in CallOutcome outcome)
    {
        // A selector that does not observe calls hears only of failures, and counted no start for them.
        if (ObservesCalls)
        {
            peer.Health.CallEnded();
            Interlocked.Decrement(ref _inFlight);
        }

        if (!outcome.Cancelled)
        {
            OnCallCompleted(peer, outcome);
        }
    }

    /// <summary>Told of a call that completed or failed (not of cancelled ones).</summary>
    protected virtual void OnCallCompleted(Peer peer, in CallOutcome outcome)
    {
    }
}
