using System;
using System.Diagnostics.Metrics;
using Checkups.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Checkups.Http;

/// <summary>
/// The HttpClient handler's metrics (meter <c>Checkups</c>: <c>checkups.http.requests</c>, <c>.attempts</c>, <c>.retries</c>,
/// <c>.retry_budget.exhausted</c>, <c>.attempt.duration</c>) and log lines (category <c>Checkups.Http</c>, ids 101 to 105), for
/// other HTTP callers of the attempt engine, so their requests and attempts count where the handler's do (the YARP
/// integration reports through it).
/// </summary>
public sealed class CheckupsHttpTelemetry
{
    private readonly HttpMetrics _metrics;
    private readonly ILogger _logger;

    /// <summary>Initializes the reporter.</summary>
    /// <param name="meters">The host's meter factory; <see langword="null"/> for a process-wide meter shared by all such reporters.</param>
    /// <param name="loggers">Where the log lines go (category <c>Checkups.Http</c>); <see langword="null"/> for none.</param>
    public CheckupsHttpTelemetry(IMeterFactory? meters = null, ILoggerFactory? loggers = null)
        : this(meters is null ? HttpMetrics.Shared : new HttpMetrics(meters), loggers?.CreateLogger(HttpLog.Category))
    {
    }

    internal CheckupsHttpTelemetry(HttpMetrics metrics, ILogger? logger)
    {
        _metrics = metrics;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>A request to <paramref name="upstream"/> starts.</summary>
    /// <param name="upstream">The upstream's name.</param>
    public void RequestStarted(string upstream) => _metrics.Request(upstream);

    /// <summary>An attempt after the first starts.</summary>
    /// <param name="method">The request's method.</param>
    /// <param name="path">The request's path (never the query).</param>
    /// <param name="upstream">The upstream's name.</param>
    /// <param name="attempt">The attempt's number, from 1.</param>
    /// <param name="tryLimit">How many the request may make.</param>
    public void Retrying(string method, string path, string upstream, int attempt, int tryLimit)
    {
        _metrics.Retry(upstream);
        HttpLog.Retrying(_logger, method, path, upstream, attempt, tryLimit);
    }

    /// <summary>An attempt ended: <c>success</c>, <c>failure_status</c>, <c>error</c> or <c>cancelled</c>.</summary>
    /// <param name="method">The request's method.</param>
    /// <param name="path">The request's path (never the query).</param>
    /// <param name="upstream">The upstream's name.</param>
    /// <param name="server">The server tried.</param>
    /// <param name="attempt">The attempt's number, from 1.</param>
    /// <param name="outcome">How it ended.</param>
    /// <param name="elapsed">How long it took.</param>
    /// <param name="failure">Why it failed (logged for <c>failure_status</c> and <c>error</c>); <see langword="null"/> otherwise.</param>
    public void AttemptEnded(string method, string path, string upstream, Server server, int attempt, string outcome, TimeSpan elapsed, string? failure = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        _metrics.Attempt(upstream, server.Key, outcome, elapsed);
        if (failure is not null)
        {
            HttpLog.AttemptFailed(_logger, method, path, attempt, server.Key, upstream, failure);
        }
    }

    /// <summary>A retry was refused by the retry budget: the request gets the failure it has.</summary>
    /// <param name="method">The request's method.</param>
    /// <param name="path">The request's path (never the query).</param>
    /// <param name="upstream">The upstream's name.</param>
    public void RetryRefused(string method, string path, string upstream)
    {
        _metrics.BudgetExhausted(upstream);
        HttpLog.RetryBudgetExhausted(_logger, method, path, upstream);
    }

    /// <summary>The request has one try only.</summary>
    /// <param name="method">The request's method.</param>
    /// <param name="path">The request's path (never the query).</param>
    /// <param name="upstream">The upstream's name.</param>
    /// <param name="reason">Why (its method, or a body that cannot be sent again).</param>
    public void NotRetryable(string method, string path, string upstream, string reason) =>
        HttpLog.NotRetryable(_logger, method, path, upstream, reason);

    /// <summary>Every attempt failed.</summary>
    /// <param name="method">The request's method.</param>
    /// <param name="path">The request's path (never the query).</param>
    /// <param name="upstream">The upstream's name.</param>
    /// <param name="attempts">How many attempts were made.</param>
    /// <param name="reason">What the caller got.</param>
    public void RequestFailed(string method, string path, string upstream, int attempts, string reason) =>
        HttpLog.RequestFailed(_logger, method, path, upstream, attempts, reason);

    /// <summary>Gets whether log lines at <paramref name="level"/> are written (to skip formatting a reason nobody reads).</summary>
    /// <param name="level">The level.</param>
    /// <returns>Whether it is enabled.</returns>
    public bool IsEnabled(LogLevel level) => _logger.IsEnabled(level);
}
