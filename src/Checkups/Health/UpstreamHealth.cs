using System.Threading;

namespace Checkups.Health;

/// <summary>
/// The live state that belongs to an upstream rather than to one of its servers, carried across its snapshots as its
/// servers' health is: the lock that orders passive <c>err</c> marking across its servers (the last-ok guard), and the
/// number that moves whenever one of its servers turns <c>err</c> or back. Selectors that cache which servers are out
/// watch that number, so a failure in one upstream never makes another upstream's selectors rebuild.
/// </summary>
internal sealed class UpstreamHealth
{
    private int _selectableEpoch;

    /// <summary>Gets the health of no upstream: the epoch of a selector without servers, which never moves.</summary>
    public static UpstreamHealth None { get; } = new();

    /// <summary>
    /// Gets a number that moves whenever a server of this upstream turns <c>err</c> or back, other than by a passive
    /// <c>err</c> running out (which selectors watch by its end time); it moves on health transitions only, never per call.
    /// </summary>
    public int SelectableEpoch => Volatile.Read(ref _selectableEpoch);

    /// <summary>Moves <see cref="SelectableEpoch"/>: called after the write that changed whether a server is selectable.</summary>
    public void SelectableChanged() => Interlocked.Increment(ref _selectableEpoch);

    /// <summary>The upstream health of <paramref name="servers"/> (they share one), or <see cref="None"/> when there are none.</summary>
    public static UpstreamHealth Of(Model.Server[] servers) => servers.Length > 0 ? servers[0].Health.Upstream : None;
}
