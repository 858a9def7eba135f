using System.Threading;
using System.Threading.Tasks;

namespace Checkups.Health.Probes;

/// <summary>
/// An active health probe of one kind (<see cref="Type"/>): tells, for one server, whether it is <c>ok</c>, <c>unstable</c>
/// or failed. Register custom probes with <c>AddHealthProbe</c>; an upstream uses one through <c>Heartbeat:Type</c>.
/// Probes run concurrently for many servers: implementations must be thread-safe.
/// </summary>
public interface IHealthProbe
{
    /// <summary>Gets the name upstreams select this probe by (<c>Heartbeat:Type</c>).</summary>
    string Type { get; }

    /// <summary>Probes one server. The token is cancelled when the upstream's connect timeout runs out or the host stops.</summary>
    /// <param name="context">The server and the upstream's heartbeat options.</param>
    /// <param name="cancellationToken">Cancelled on timeout or shutdown.</param>
    /// <returns>The verdict; an exception counts as a failed probe with the exception's message.</returns>
    ValueTask<ProbeResult> ProbeAsync(ProbeContext context, CancellationToken cancellationToken);
}
