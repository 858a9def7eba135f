using System;
using Microsoft.Extensions.Logging;

namespace Checkups.Http;

/// <summary>Every log line the handler writes (category <c>Checkups.Http</c>), with stable event ids from 101.</summary>
internal static partial class HttpLog
{
    /// <summary>The log category.</summary>
    public const string Category = "Checkups.Http";

    [LoggerMessage(EventIds.AttemptFailed, LogLevel.Warning, "{Method} {Path}: attempt {Attempt} on server {Server} of upstream {Upstream} failed: {Reason}")]
    public static partial void AttemptFailed(ILogger logger, string method, string path, int attempt, string server, string upstream, string reason);

    [LoggerMessage(EventIds.Retrying, LogLevel.Debug, "{Method} {Path}: retrying on another server of upstream {Upstream} (attempt {Attempt} of {Try})")]
    public static partial void Retrying(ILogger logger, string method, string path, string upstream, int attempt, int @try);

    [LoggerMessage(EventIds.RetryBudgetExhausted, LogLevel.Warning, "{Method} {Path}: the retry budget of upstream {Upstream} is exhausted; the request gets its failure back instead of a retry")]
    public static partial void RetryBudgetExhausted(ILogger logger, string method, string path, string upstream);

    [LoggerMessage(EventIds.NotRetryable, LogLevel.Debug, "{Method} {Path}: not retried on upstream {Upstream}: {Reason}")]
    public static partial void NotRetryable(ILogger logger, string method, string path, string upstream, string reason);

    [LoggerMessage(EventIds.RequestFailed, LogLevel.Warning, "{Method} {Path}: upstream {Upstream} failed after {Attempts} attempt(s): {Reason}")]
    public static partial void RequestFailed(ILogger logger, string method, string path, string upstream, int attempts, string reason);

    [LoggerMessage(EventIds.OuterResilience, LogLevel.Information, "Upstream {Upstream}: a resilience handler (Microsoft.Extensions.Http.Resilience) runs outside Checkups and owns the retries: each of its attempts is one Checkups try. To let Checkups retry across servers while Polly keeps its timeouts and circuit breaker, use AddCheckupsWithResilience (package Checkups.ServiceDiscovery)")]
    public static partial void OuterResilience(ILogger logger, string upstream);

    [LoggerMessage(EventIds.ServiceDiscoveryHandlerRemoved, LogLevel.Information, "HttpClient {Client}: ServiceDiscovery's handler (AddServiceDiscovery() on the client or on every client) is left out; Checkups balances upstream {Upstream} over the servers its sources give (services.AddCheckups().AddServiceDiscovery(\"https+http://<service>\") feeds them from ServiceDiscovery)")]
    public static partial void ServiceDiscoveryHandlerRemoved(ILogger logger, string client, string upstream);
}
