namespace Checkups.Http;

internal static partial class HttpLog
{
    /// <summary>
    /// The event id of each log line, by name: stable, never reused (tests assert them through these names).
    /// </summary>
    internal static class EventIds
    {
        /// <summary>The id of <see cref="HttpLog.AttemptFailed"/>.</summary>
        public const int AttemptFailed = 101;

        /// <summary>The id of <see cref="HttpLog.Retrying"/>.</summary>
        public const int Retrying = 102;

        /// <summary>The id of <see cref="HttpLog.RetryBudgetExhausted"/>.</summary>
        public const int RetryBudgetExhausted = 103;

        /// <summary>The id of <see cref="HttpLog.NotRetryable"/>.</summary>
        public const int NotRetryable = 104;

        /// <summary>The id of <see cref="HttpLog.RequestFailed"/>.</summary>
        public const int RequestFailed = 105;

        /// <summary>The id of <see cref="HttpLog.OuterResilience"/>.</summary>
        public const int OuterResilience = 106;

        /// <summary>The id of <see cref="HttpLog.ServiceDiscoveryHandlerRemoved"/>.</summary>
        public const int ServiceDiscoveryHandlerRemoved = 107;
    }
}
