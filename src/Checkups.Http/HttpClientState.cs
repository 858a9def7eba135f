using System;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Checkups.Http;

/// <summary>What outlives the factory's handler rotation: each client's retry budget, and the instruments.</summary>
internal sealed class HttpClientState
{
    private readonly ConcurrentDictionary<string, RetryBudget> _budgets = new(StringComparer.Ordinal);

    public HttpClientState(IMeterFactory? meters = null) => Metrics = new HttpMetrics(meters);

    public HttpMetrics Metrics { get; }

    public RetryBudget BudgetOf(string client, CheckupsHttpOptions options, TimeProvider time) =>
        _budgets.GetOrAdd(client, static (_, state) => new RetryBudget(state.options, state.time), (options, time));
}
