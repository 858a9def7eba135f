using System;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Execution;
using Checkups.Registry;
using Checkups.TestUtils;
using Microsoft.Extensions.Time.Testing;

namespace Checkups.Http.Tests;

/// <summary>
/// The handler and <c>ExecuteAsync</c> run on one attempt engine: the same failures give the same stop reason and the same
/// message, word for word, whichever of the two made the attempts.
/// </summary>
public sealed class AttemptEngineParityTests
{
    private static UpstreamRegistry Registry(TimeProvider time, int? tries, TimeSpan? tryTimeout)
    {
        var upstream = new UpstreamOptions { Try = tries, TryTimeout = tryTimeout };
        for (int port = 8001; port <= 8003; port++)
        {
            upstream.Servers.Add(new ServerOptions { Host = "127.0.0.1", Port = port });
        }

        var options = new CheckupsOptions();
        options.Upstreams.Add("api", upstream);
        return new UpstreamRegistry(options, time);
    }

    [Theory]
    [InlineData(2, null, CallStopReason.TryLimitReached)]
    [InlineData(null, null, CallStopReason.EveryServerTried)]
    [InlineData(3, 1500, CallStopReason.TryTimeoutExceeded)]
    public async Task SameFailures_SameStopReasonAndMessage_ThroughExecuteAsyncAndTheHandler(int? tries, int? tryTimeoutMs, CallStopReason expected)
    {
        // Every attempt fails the same way and takes one second of the clock; the try limit is above the number of
        // servers in the second case, so the call runs out of servers first.
        var tryTimeout = tryTimeoutMs is { } ms ? TimeSpan.FromMilliseconds(ms) : (TimeSpan?)null;
        var executeClock = new FakeTimeProvider();
        var handlerClock = new FakeTimeProvider();
        using var forExecute = Registry(executeClock, tries ?? 5, tryTimeout);
        using var forHandler = Registry(handlerClock, tries ?? 5, tryTimeout);

        var executed = await Assert.ThrowsAnyAsync<UpstreamCallException>(async () =>
            await forExecute.ExecuteAsync<int>("api", (_, _) =>
            {
                executeClock.Advance(TimeSpan.FromSeconds(1));
                throw new HttpRequestException("connection refused");
            }));

        using var client = new HttpClient(new CheckupsHttpHandler(forHandler, "api", time: handlerClock)
        {
            InnerHandler = new FailingHandler(handlerClock),
        });
        var sent = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("http://api/items"));
        var handled = Assert.IsAssignableFrom<UpstreamCallException>(sent.InnerException);

        Assert.Equal(expected, executed.Reason);
        Assert.Equal(executed.Reason, handled.Reason);
        Assert.Equal(executed.Message, handled.Message);
        Assert.Equal(executed.Attempts.Count, handled.Attempts.Count);
    }

    /// <summary>An inner handler whose every send fails as a refused connection would, one second later.</summary>
    private sealed class FailingHandler(FakeTimeProvider clock) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            throw new HttpRequestException("connection refused");
        }
    }
}
