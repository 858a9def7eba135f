using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace Checkups.TestUtils;

/// <summary>
/// A <see cref="FakeLogCollector"/> that lets a test wait (bounded) for an event id. The collector's output sink, called
/// after each record is kept, wakes the waiters: a signal, not a poll.
/// </summary>
public sealed class AwaitableLogCollector : FakeLogCollector
{
    /// <summary>How long <see cref="WhenLoggedAsync"/> waits for its event.</summary>
    public static readonly TimeSpan Bound = Pulse.Bound;

    private readonly Pulse _logged;

    public AwaitableLogCollector()
        : this(new Pulse())
    {
    }

    private AwaitableLogCollector(Pulse logged)
        : base(Options.Create(new FakeLogCollectorOptions { OutputSink = _ => logged.Fire() })) => _logged = logged;

    /// <summary>
    /// Completes with the first record with <paramref name="eventId"/>, logged before or after the call; fails after
    /// <see cref="Bound"/> with what was logged instead.
    /// </summary>
    public async Task<FakeLogRecord> WhenLoggedAsync(int eventId)
    {
        FakeLogRecord? found = null;
        if (await _logged.UntilAsync(() => (found = GetSnapshot().FirstOrDefault(r => r.Id.Id == eventId)) is not null, Bound))
        {
            return found!;
        }

        // Say what was logged instead, so a failure can be read from the test output alone.
        throw new TimeoutException(
            $"event {eventId} was not logged within {Bound.TotalSeconds} s; logged: {string.Join(" | ", GetSnapshot().Select(r => $"{r.Id.Id} {r.Message}"))}");
    }
}
