using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Health.Probes;

namespace Checkups.TestUtils;

/// <summary>A probe whose verdict per port the test sets; it counts calls and can be made to wait for a gate.</summary>
public sealed class ScriptedProbe : IHealthProbe
{
    private readonly object _gate = new();
    private readonly System.Collections.Generic.List<(int Count, TaskCompletionSource Signal)> _waiters = new();
    private int _running;
    private int _maxRunning;
    private int _calls;

    public string Type => "scripted";

    public ConcurrentDictionary<int, Func<ProbeResult>> Verdicts { get; } = new();

    /// <summary>When set, every probe waits for this task before answering.</summary>
    public Task? Gate { get; set; }

    public int Calls => Volatile.Read(ref _calls);

    public int MaxRunning => Volatile.Read(ref _maxRunning);

    public int Running => Volatile.Read(ref _running);

    /// <summary>Completes once <paramref name="count"/> probes are running at the same time.</summary>
    public Task WhenRunning(int count)
    {
        lock (_gate)
        {
            if (Running >= count)
            {
                return Task.CompletedTask;
            }

            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, signal));
            return signal.Task;
        }
    }

    public async ValueTask<ProbeResult> ProbeAsync(ProbeContext context, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        int running = Interlocked.Increment(ref _running);
        lock (_gate)
        {
            _waiters.RemoveAll(w =>
            {
                if (running < w.Count)
                {
                    return false;
                }

                w.Signal.SetResult();
                return true;
            });
        }

        int max;
        while (running > (max = Volatile.Read(ref _maxRunning)) && Interlocked.CompareExchange(ref _maxRunning, running, max) != max)
        {
        }

        try
        {
            if (Gate is { } gate)
            {
                await gate.WaitAsync(cancellationToken);
            }

            return Verdicts.TryGetValue(context.Server.Port, out var verdict) ? verdict() : ProbeResult.Ok();
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }
}
