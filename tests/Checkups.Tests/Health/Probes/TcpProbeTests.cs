using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using Checkups.Health.Probes;
using Checkups.Status;
using Checkups.TestUtils;
using Microsoft.Extensions.Time.Testing;

namespace Checkups.Tests.Health.Probes;

public sealed class TcpProbeTests
{
    [Fact]
    public async Task Probe_OpenPort_IsOk()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(16);

        var result = await Probing.ProbeAsync(new TcpProbe(), Probing.Upstream("tcp", ((IPEndPoint)listener.LocalEndPoint!).Port));

        Assert.Equal(HealthStatus.Ok, result.Status);
    }

    [Fact]
    public async Task Round_ClosedPort_IsErrWithTheSocketError()
    {
        // Bound but not listening: the port stays ours (no parallel test can take it) and refuses connections.
        using var closed = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        closed.Bind(new IPEndPoint(IPAddress.Loopback, 0));

        var status = await Probing.RoundAsync(new TcpProbe(), Probing.Upstream("tcp", ((IPEndPoint)closed.LocalEndPoint!).Port));

        Assert.Equal(HealthStatus.Err, status.Status);
        Assert.Equal("Connection refused", status.Message);
    }

    [Fact]
    public async Task Round_ListenerWithFullAcceptBacklog_TimesOutAtTheConnectTimeout()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        int port = ((IPEndPoint)listener.LocalEndPoint!).Port;

        // Nobody accepts: connect until one attempt hangs, which shows the accept queue is full (at most 8 tries).
        var fillers = new List<Socket>();
        try
        {
            bool full = false;
            for (int i = 0; i < 8 && !full; i++)
            {
                var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                fillers.Add(client);
                var connect = client.ConnectAsync(IPAddress.Loopback, port);
                full = !await connect.WaitAsync(TimeSpan.FromSeconds(1)).ContinueWith(t => t.IsCompletedSuccessfully, TaskScheduler.Default);
            }

            Assert.True(full, "the accept queue never filled");
            var time = new FakeTimeProvider();

            var status = await Probing.RoundAsync(
                new TcpProbe(),
                Probing.Upstream("tcp", port, timeout: TimeSpan.FromSeconds(3)),
                time,
                whileRunning: () => time.Advance(TimeSpan.FromSeconds(3)));

            Assert.Equal(HealthStatus.Err, status.Status);
            Assert.Equal("timeout after 3000 ms", status.Message);
        }
        finally
        {
            fillers.ForEach(f => f.Dispose());
        }
    }
}
