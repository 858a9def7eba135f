using System.Threading;
using System.Threading.Tasks;
using Checkups.Configuration;

namespace Checkups.Health.Probes;

/// <summary>The <c>tcp</c> probe: the server accepts a connection within the timeout; the connection is closed at once.</summary>
internal sealed class TcpProbe : IHealthProbe
{
    public string Type => ProbeTypes.Tcp;

    public async ValueTask<ProbeResult> ProbeAsync(ProbeContext context, CancellationToken cancellationToken)
    {
        using var socket = await ProbeConnection.ConnectAsync(context.Server, cancellationToken).ConfigureAwait(false);
        return ProbeResult.Ok();
    }
}
