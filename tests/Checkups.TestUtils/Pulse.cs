using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace Checkups.TestUtils;

/// <summary>
/// A signal fired each time something a test waits for may have happened (a request served, a registry change, a record
/// logged): <see cref="UntilAsync"/> checks its condition again at each one, instead of polling on a delay.
/// </summary>
public sealed class Pulse
{
    /// <summary>How long <see cref="UntilAsync"/> waits unless told.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    // A wait wakes once per pulse (or at its deadline): a count far beyond what any test fires in the bound, so only a
    // runaway source reaches it, never a slow machine.
    private const int MaxWakes = 1_000_000;

    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Wakes every wait.</summary>
    public void Fire() => Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>
    /// Completes with <see langword="true"/> once <paramref name="condition"/> holds, checked now and after each pulse;
    /// <see langword="false"/> when <paramref name="bound"/> (default <see cref="Bound"/>) ran out first.
    /// </summary>
    public Task<bool> UntilAsync(Func<bool> condition, TimeSpan? bound = null) => UntilAsync(new[] { this }, condition, bound);

    /// <summary>As <see cref="UntilAsync(Func{bool}, TimeSpan?)"/>, woken by a pulse of any of <paramref name="pulses"/>.</summary>
    public static async Task<bool> UntilAsync(IReadOnlyList<Pulse> pulses, Func<bool> condition, TimeSpan? bound = null)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)((bound ?? Bound).TotalSeconds * Stopwatch.Frequency);
        var next = new Task[pulses.Count];
        for (int wake = 0; wake < MaxWakes; wake++)
        {
            // Armed before the condition is read, so a pulse after the read completes the wait.
            for (int i = 0; i < next.Length; i++)
            {
                next[i] = Volatile.Read(ref pulses[i]._next).Task;
            }

            if (condition())
            {
                return true;
            }

            var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
            if (left <= TimeSpan.Zero)
            {
                break;
            }

            try
            {
                await Task.WhenAny(next).WaitAsync(left);
            }
            catch (TimeoutException)
            {
                // One last check at the top of the loop.
            }
        }

        return condition();
    }
}
