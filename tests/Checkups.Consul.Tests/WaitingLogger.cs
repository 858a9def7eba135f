using System;
using System.Linq;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;

namespace Checkups.Consul.Tests;

/// <summary>A logger that keeps every entry and lets a test wait (bounded) for an event id: a signal, not a poll.</summary>
internal sealed class WaitingLogger : ILogger
{
    private readonly object _gate = new();
    private readonly Dictionary<int, TaskCompletionSource> _waiters = new();

    public ConcurrentQueue<(LogLevel Level, EventId Id, string Message)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        Entries.Enqueue((logLevel, eventId, formatter(state, exception)));
        lock (_gate)
        {
            Waiter(eventId.Id).TrySetResult();
        }
    }

    /// <summary>Completes when an entry with <paramref name="id"/> has been logged (before or after the call).</summary>
    public async Task WhenLoggedAsync(int id)
    {
        Task logged;
        lock (_gate)
        {
            logged = Waiter(id).Task;
        }

        try
        {
            await logged.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException ex)
        {
            // Say what was logged instead, so a failure can be read from the test output alone.
            throw new TimeoutException($"event {id} was not logged within 30 s; logged: {string.Join(" | ", Entries.Select(e => $"{e.Id.Id} {e.Message}"))}", ex);
        }
    }

    private TaskCompletionSource Waiter(int id)
    {
        if (!_waiters.TryGetValue(id, out var waiter))
        {
            waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters[id] = waiter;
        }

        return waiter;
    }
}
