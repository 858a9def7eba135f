using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace Checkups.TestUtils;

/// <summary>How a <see cref="HostileServer"/> treats each connection.</summary>
public enum Hostility
{
    /// <summary>Accepts and never writes.</summary>
    Silent,

    /// <summary>Writes a burst of bytes that are no protocol at all (control characters included), then waits.</summary>
    Garbage,

    /// <summary>Writes without end (in bounded chunks) until the client goes away.</summary>
    Endless,

    /// <summary>Writes one byte at a time, slowly.</summary>
    SlowDrip,

    /// <summary>Accepts, then resets the connection.</summary>
    Reset,
}

/// <summary>
/// A TCP server on 127.0.0.1 that misbehaves in one way, and counts the connections the client has not closed yet (a
/// connection counts as closed when the server reads end of stream or an error from it).
/// </summary>
public sealed class HostileServer : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connections = new();
    private readonly Hostility _hostility;
    private readonly Task _accepting;
    private int _open;

    public HostileServer(Hostility hostility)
    {
        _hostility = hostility;
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(64);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>Gets the connections accepted and not yet closed by the client.</summary>
    public int Open => Volatile.Read(ref _open);

    /// <summary>Waits (bounded by <paramref name="bound"/>) until the client has closed every connection; returns whether it did.</summary>
    public bool WaitAllClosed(TimeSpan bound) => SpinWait.SpinUntil(() => Open == 0, bound);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        try
        {
            await _accepting.WaitAsync(TimeSpan.FromSeconds(30));
            Task[] connections;
            lock (_connections)
            {
                connections = _connections.ToArray();
            }

            await Task.WhenAll(connections).WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            Interlocked.Increment(ref _open);
            lock (_connections)
            {
                // Ended connections are dropped, so a long run (the bench's thousand rounds) holds only live ones.
                _connections.RemoveAll(static task => task.IsCompleted);
                _connections.Add(ServeAsync(client));
            }
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using var _ = client;
        try
        {
            var reading = WaitForCloseAsync(client);
            switch (_hostility)
            {
                case Hostility.Reset:
                    client.LingerState = new LingerOption(true, 0);
                    client.Close();
                    break;
                case Hostility.Garbage:
                    await client.SendAsync(Garbage(), _stop.Token);
                    break;
                case Hostility.Endless:
                    var chunk = new byte[16 * 1024];
                    Array.Fill(chunk, (byte)'+');
                    for (int i = 0; i < 100_000 && !reading.IsCompleted; i++)
                    {
                        await client.SendAsync(chunk, _stop.Token);
                    }

                    break;
                case Hostility.SlowDrip:
                    for (int i = 0; i < 10_000 && !reading.IsCompleted; i++)
                    {
                        await client.SendAsync(new byte[] { (byte)'$' }, _stop.Token);
                        await Task.WhenAny(reading, Task.Delay(100, _stop.Token));
                    }

                    break;
            }

            await reading;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    }

    /// <summary>Reads and drops what the client sends until it closes (end of stream or an error).</summary>
    private async Task WaitForCloseAsync(Socket client)
    {
        var buffer = new byte[4096];
        try
        {
            while (await client.ReceiveAsync(buffer, _stop.Token) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private static byte[] Garbage()
    {
        var bytes = new byte[600];
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)((i * 37 + 11) % 256);
        }

        bytes[0] = (byte)'-';
        return bytes;
    }
}
