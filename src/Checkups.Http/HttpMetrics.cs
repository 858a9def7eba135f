using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Checkups.Http;

/// <summary>The handler's instruments, on the <c>Checkups</c> meter (from the host's <see cref="IMeterFactory"/> when there is one).</summary>
internal sealed class HttpMetrics
{
    /// <summary>The core's meter name: one meter, "Checkups", for every package.</summary>
    public const string MeterName = "Checkups";

    private readonly Counter<long> _requests;
    private readonly Counter<long> _attempts;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _budgetExhausted;
    private readonly Histogram<double> _duration;

    public HttpMetrics(IMeterFactory? factory)
        : this(factory?.Create(MeterName) ?? new Meter(MeterName))
    {
    }

    private HttpMetrics(Meter meter)
    {
        _requests = meter.CreateCounter<long>("checkups.http.requests", unit: "{request}", description: "Requests sent through the Checkups handler.");
        _attempts = meter.CreateCounter<long>("checkups.http.attempts", unit: "{attempt}", description: "Attempts, one per server tried.");
        _retries = meter.CreateCounter<long>("checkups.http.retries", unit: "{retry}", description: "Attempts after the first.");
        _budgetExhausted = meter.CreateCounter<long>("checkups.http.retry_budget.exhausted", unit: "{retry}", description: "Retries refused by the retry budget.");
        _duration = meter.CreateHistogram<double>("checkups.http.attempt.duration", unit: "s", description: "Duration of each attempt, per server.");
    }

    /// <summary>Gets the instruments of handlers made without a meter factory: one meter for all of them, not one each.</summary>
    public static HttpMetrics Shared { get; } = new(new Meter(MeterName));

    public void Request(string upstream) => _requests.Add(1, new KeyValuePair<string, object?>("checkups.upstream", upstream));

    public void Retry(string upstream) => _retries.Add(1, new KeyValuePair<string, object?>("checkups.upstream", upstream));

    public void BudgetExhausted(string upstream) => _budgetExhausted.Add(1, new KeyValuePair<string, object?>("checkups.upstream", upstream));

    public void Attempt(string upstream, string server, string outcome, TimeSpan elapsed)
    {
        if (!_attempts.Enabled && !_duration.Enabled)
        {
            return;
        }

        var tags = new TagList
        {
            { "checkups.upstream", upstream },
            { "checkups.server", server },
            { "checkups.outcome", outcome },
        };
        _attempts.Add(1, tags);
        _duration.Record(elapsed.TotalSeconds, tags);
    }
}
