using System;
using System.Diagnostics;
using System.Linq;
using System.Threading;
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
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    // A wait wakes once per record logged (or at its deadline): a count far beyond what any test logs in the bound, so
    // only a runaway logger reaches it, never a slow machine.
    private const int MaxWakes = 1_000_000;

    private readonly Signal _signal;

    public AwaitableLogCollector()
        : this(new Signal())
    {
    }

    private AwaitableLogCollector(Signal signal)
        : base(Options.Create(new FakeLogCollectorOptions { OutputSink = _ => signal.Pulse() })) => _signal = signal;

    /// <summary>
    /// Completes with the first record with <paramref name="eventId"/>, logged before or after the call; fails after
    /// <see cref="Bound"/> with what was logged instead.
    /// </summary>
    public async Task<FakeLogRecord> WhenLoggedAsync(int eventId)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(Bound.TotalSeconds * Stopwatch.Frequency);
        for (int wake = 0; wake < MaxWakes; wake++)
        {
            // Armed before the records are read, so a record kept after the read completes it.
            var next = _signal.Next;
            if (GetSnapshot().FirstOrDefault(r => r.Id.Id == eventId) is { } record)
            {
                return record;
            }

            var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
            if (left <= TimeSpan.Zero)
            {
                break;
            }

            try
            {
                await next.WaitAsync(left);
            }
            catch (TimeoutException)
            {
                // One last read at the top of the loop, then the failure below.
            }
        }

        // Say what was logged instead, so a failure can be read from the test output alone.
        throw new TimeoutException(
            $"event {eventId} was not logged within {Bound.TotalSeconds} s; logged: {string.Join(" | ", GetSnapshot().Select(r => $"{r.Id.Id} {r.Message}"))}");
    }

    private sealed class Signal
    {
        private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Gets a task that completes at the next record.</summary>
        public Task Next => Volatile.Read(ref _next).Task;

        public void Pulse() => Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }
}
