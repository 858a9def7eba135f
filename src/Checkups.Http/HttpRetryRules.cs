using System;
using System.Net.Http;

namespace Checkups.Http;

/// <summary>
/// The HTTP rules of Checkups' retries, shared by every HTTP caller of the attempt engine (the HttpClient handler, the
/// YARP integration), so a retry loop of one's own does not copy them: which methods may be sent to a second server, and
/// which answers are a server's failure.
/// </summary>
public static class HttpRetryRules
{
    /// <summary>Whether a request of <paramref name="method"/> may be sent again without asking: GET, HEAD, OPTIONS, PUT, DELETE, TRACE (RFC 9110).</summary>
    /// <param name="method">The request's method.</param>
    /// <returns>Whether the method is idempotent.</returns>
    public static bool IsIdempotent(string method)
    {
        ArgumentNullException.ThrowIfNull(method);
        return HttpMethods(method) is "GET" or "HEAD" or "OPTIONS" or "PUT" or "DELETE" or "TRACE";
    }

    /// <summary>
    /// Whether a request of <paramref name="method"/> may go to another server after a failure: an idempotent method, or
    /// POST and PATCH when the caller opted in (its body must then be sent again whole, so it must be buffered).
    /// </summary>
    /// <param name="method">The request's method.</param>
    /// <param name="retryNonIdempotent">Whether POST and PATCH were opted in.</param>
    /// <returns>Whether the method may be retried.</returns>
    public static bool MayRetry(string method, bool retryNonIdempotent) =>
        IsIdempotent(method) || (retryNonIdempotent && HttpMethods(method) is "POST" or "PATCH");

    /// <summary>Why a request of <paramref name="method"/> may not be retried, for a log line; <see langword="null"/> when it may.</summary>
    /// <param name="method">The request's method.</param>
    /// <param name="retryNonIdempotent">Whether POST and PATCH were opted in.</param>
    /// <returns>The reason, or <see langword="null"/>.</returns>
    public static string? WhyNotRetried(string method, bool retryNonIdempotent) =>
        MayRetry(method, retryNonIdempotent) ? null
        : !retryNonIdempotent && HttpMethods(method) is "POST" or "PATCH" ? "the method is not idempotent (RetryNonIdempotent is off)"
        : "the method is not idempotent";

    /// <summary>Whether a response of <paramref name="status"/> is the server's failure for <paramref name="upstream"/> (its <c>FailureStatuses</c>).</summary>
    /// <param name="upstream">The upstream the request went to.</param>
    /// <param name="status">The response's status code.</param>
    /// <returns>Whether the status counts against the server and is retried.</returns>
    public static bool IsFailureStatus(Model.Upstream upstream, int status)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        return upstream.FailureStatuses.Contains(status);
    }

    /// <summary>The method in upper case without allocating for the common ones.</summary>
    private static string HttpMethods(string method) =>
        method.Length <= 7 && method is "GET" or "HEAD" or "OPTIONS" or "PUT" or "DELETE" or "TRACE" or "POST" or "PATCH" ? method : method.ToUpperInvariant();
}
