using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Model;

namespace Checkups.Health.Probes;

/// <summary>Opens the TCP connection a probe talks over.</summary>
internal static class ProbeConnection
{
    public static async ValueTask<Socket> ConnectAsync(Server server, CancellationToken cancellationToken)
    {
        EndPoint endPoint = IPAddress.TryParse(server.Host, out var address)
            ? new IPEndPoint(address, server.Port)
            : new DnsEndPoint(server.Host, server.Port);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
