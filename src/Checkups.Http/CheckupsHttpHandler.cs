using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Execution;
using Checkups.Model;
using Checkups.Registry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Checkups.Http;

/// <summary>
/// Sends requests addressed to an upstream (<c>http://&lt;upstream&gt;/path?q</c>) to a server the upstream's mode
/// chooses, and on a failure to another one. Built on the core's public leases: each attempt is counted in flight,
/// and its outcome reaches passive health and the selector.
/// </summary>
/// <remarks>
/// <para>
/// A failure is a connection error or reset before a response, the attempt's timeout (the upstream's connect plus read
/// timeout, or what is left of the try timeout when that is less: no attempt outlives it), or a response whose status
/// is in the upstream's <c>FailureStatuses</c>. The caller's cancellation is not a failure and is not retried. Requests
/// to another host pass through untouched.
/// </para>
/// <para>
/// Retries go to servers not yet tried (levels, cluster order, <c>Try</c>, <c>TryTimeout</c>), for idempotent methods, and
/// for POST and PATCH with <see cref="CheckupsHttpOptions.RetryNonIdempotent"/> when the content can be sent again. A
/// failed response that is retried is disposed; when every try ends with a failure status the last response is
/// returned; when every try fails before a response, an <see cref="HttpRequestException"/> whose inner
/// <see cref="NoServerAvailableException"/> names the upstream and each attempt.
/// </para>
/// </remarks>
public sealed class CheckupsHttpHandler : DelegatingHandler
{
    private readonly UpstreamRegistry _registry;
    private readonly string _upstream;
    private readonly CheckupsHttpOptions _options;
    private readonly TimeProvider _time;
    private readonly RetryBudget _budget;
    private readonly HttpMetrics _metrics;
    private readonly ILogger _logger;
    private readonly AttemptTimeouts _timeouts;

    /// <summary>Initializes a handler for <paramref name="upstream"/>; set <see cref="DelegatingHandler.InnerHandler"/> when used without a factory.</summary>
    /// <param name="registry">The registry that holds the upstream.</param>
    /// <param name="upstream">The upstream name requests are addressed to.</param>
    /// <param name="options">The handler's options; <see langword="null"/> for the defaults.</param>
    /// <param name="time">The clock of attempt and try timeouts; <see langword="null"/> for the system clock.</param>
    /// <param name="logger">Where failed attempts, retries and failed requests are logged (event ids from 101).</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public CheckupsHttpHandler(UpstreamRegistry registry, string upstream, CheckupsHttpOptions? options = null, TimeProvider? time = null, ILogger? logger = null)
        : this(registry, upstream, options ?? new CheckupsHttpOptions(), time ?? TimeProvider.System, null, null, logger)
    {
    }

    /// <summary>The factory's constructor: the retry budget is the client's, shared by the handlers the factory rotates.</summary>
    internal CheckupsHttpHandler(UpstreamRegistry registry, string upstream, CheckupsHttpOptions options, TimeProvider time, RetryBudget? budget, HttpMetrics? metrics, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentException.ThrowIfNullOrWhiteSpace(upstream);
        options.Validate();
        _registry = registry;
        _upstream = upstream;
        _options = options;
        _time = time;
        _budget = budget ?? new RetryBudget(options, time);
        _metrics = metrics ?? HttpMetrics.Shared;
        _logger = logger ?? NullLogger.Instance;
        _timeouts = new AttemptTimeouts(time);
    }

    /// <summary>Gets the upstream this handler balances over.</summary>
    public string Upstream => _upstream;

    /// <inheritdoc />
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var original = request.RequestUri;
        if (original is null || !original.IsAbsoluteUri || !string.Equals(original.Host, _upstream, StringComparison.OrdinalIgnoreCase))
        {
            return base.SendAsync(request, cancellationToken);
        }

        return SendBalancedAsync(request, original, cancellationToken);
    }

    private static bool IsIdempotent(HttpMethod method) =>
        method == HttpMethod.Get || method == HttpMethod.Head || method == HttpMethod.Options
        || method == HttpMethod.Put || method == HttpMethod.Delete || method == HttpMethod.Trace;

    /// <summary>The request's address on <paramref name="server"/>: scheme, the server's host and port, the original path and query; one string, one <see cref="Uri"/>.</summary>
    private static Uri Address(Uri original, Server server, string scheme)
    {
        string host = server.Host;
        bool bracket = host.Contains(':', StringComparison.Ordinal) && host[0] != '[';
        string pathAndQuery = original.PathAndQuery;
        int port = server.Port;
        int portDigits = port < 10 ? 1 : port < 100 ? 2 : port < 1000 ? 3 : port < 10000 ? 4 : 5;
        int length = scheme.Length + 3 + host.Length + (bracket ? 2 : 0) + 1 + portDigits + pathAndQuery.Length;
        string address = string.Create(length, (scheme, host, bracket, port, pathAndQuery), static (span, parts) =>
        {
            parts.scheme.AsSpan().CopyTo(span);
            int at = parts.scheme.Length;
            "://".AsSpan().CopyTo(span[at..]);
            at += 3;
            if (parts.bracket)
            {
                span[at++] = '[';
            }

            parts.host.AsSpan().CopyTo(span[at..]);
            at += parts.host.Length;
            if (parts.bracket)
            {
                span[at++] = ']';
            }

            span[at++] = ':';
            parts.port.TryFormat(span[at..], out int written, default, CultureInfo.InvariantCulture);
            at += written;
            parts.pathAndQuery.AsSpan().CopyTo(span[at..]);
        });
        return new Uri(address, UriKind.Absolute);
    }

    /// <summary>The shortest attempt the rest of a try timeout gives (a timer below a millisecond is not kept).</summary>
    private static readonly TimeSpan MinimumAttempt = TimeSpan.FromMilliseconds(1);

    /// <summary>A per-request try timeout: "never" (<see cref="TimeSpan.MaxValue"/>, infinite, beyond any timer) is no limit.</summary>
    private static TimeSpan? NeverIsNone(TimeSpan value) =>
        value == Timeout.InfiniteTimeSpan || value > TimeSpan.FromMilliseconds(uint.MaxValue - 1) ? null : value;

    private async Task<HttpResponseMessage> SendBalancedAsync(HttpRequestMessage request, Uri original, CancellationToken cancellationToken)
    {
        var upstream = _registry.Get(_upstream);
        _budget.Deposit();
        _metrics.Request(_upstream);
        var options = request.Options;
        int tryLimit = options.TryGetValue(CheckupsRequestOptions.Try, out int tries) ? Math.Max(1, tries) : upstream.Try;
        TimeSpan? tryTimeout = options.TryGetValue(CheckupsRequestOptions.TryTimeout, out var perRequest) ? NeverIsNone(perRequest) : upstream.TryTimeout;
        options.TryGetValue(CheckupsRequestOptions.ClusterOrder, out var clusterOrder);
        string key = Key(request, original, upstream);
        if (tryLimit > 1 && await CannotSendAgainAsync(request).ConfigureAwait(false) is { } notRetryable)
        {
            HttpLog.NotRetryable(_logger, request.Method.Method, original.AbsolutePath, _upstream, notRetryable);
            tryLimit = 1;
        }

        string scheme = _options.Scheme ?? original.Scheme;
        if (_options.HostHeader == CheckupsHostHeader.LogicalName && !request.Headers.NonValidated.Contains("Host"))
        {
            // The name the request was addressed to, as written (nginx's $proxy_host); the port only when not the default.
            request.Headers.TryAddWithoutValidation("Host", original.IsDefaultPort ? _upstream : string.Concat(_upstream, ":", original.Port.ToString(CultureInfo.InvariantCulture)));
        }

        var attemptLimit = upstream.Timeouts.Connect + upstream.Timeouts.Read;
        long started = tryTimeout.HasValue ? _time.GetTimestamp() : 0;
        List<Server>? tried = null;
        List<UpstreamAttempt>? attempts = null;
        HttpResponseMessage? failedResponse = null;
        var stop = CallStopReason.EveryServerTried;
        try
        {
            for (int attempt = 0; attempt < tryLimit; attempt++)
            {
                // No attempt outlives the try timeout: it gets connect + read, or what is left of the try timeout when
                // that is less (a hung server then costs the request its try timeout, not the attempt's own).
                var attemptTimeout = attemptLimit;
                bool cutByTryTimeout = false;
                if (tryTimeout is { } limit)
                {
                    var remaining = limit - _time.GetElapsedTime(started);
                    if (attempt > 0 && remaining <= TimeSpan.Zero)
                    {
                        stop = CallStopReason.TryTimeoutExceeded;
                        break;
                    }

                    if (remaining < attemptTimeout)
                    {
                        attemptTimeout = remaining > MinimumAttempt ? remaining : MinimumAttempt;
                        cutByTryTimeout = true;
                    }
                }

                if (attempt > 0)
                {
                    if (!_budget.TryWithdraw())
                    {
                        // Over budget: the caller gets the failure it has, so a struggling fleet is not buried in retries.
                        _metrics.BudgetExhausted(_upstream);
                        HttpLog.RetryBudgetExhausted(_logger, request.Method.Method, original.AbsolutePath, _upstream);
                        stop = CallStopReason.RetryBudgetExhausted;
                        break;
                    }

                    _metrics.Retry(_upstream);
                    HttpLog.Retrying(_logger, request.Method.Method, original.AbsolutePath, _upstream, attempt + 1, tryLimit);
                }

                if (!_registry.TryAcquireLease(_upstream, key, clusterOrder, tried, out var lease))
                {
                    stop = attempt == 0 ? CallStopReason.NoSelectableServer : CallStopReason.EveryServerTried;
                    break;
                }

                var server = lease.Server;
                request.RequestUri = Address(original, server, scheme);
                long attemptStarted = _time.GetTimestamp();
                HttpResponseMessage response;
                var cancellation = _timeouts.Rent(attemptTimeout);
                var callerCancels = cancellationToken.UnsafeRegister(static source => ((CancellationTokenSource)source!).Cancel(), cancellation);
                try
                {
                    response = await base.SendAsync(request, cancellation.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    lease.Complete(LeaseOutcome.Cancelled);
                    _metrics.Attempt(_upstream, server.Key, "cancelled", _time.GetElapsedTime(attemptStarted));
                    throw;
                }
                catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or System.IO.IOException)
                {
                    lease.Complete(LeaseOutcome.Failure);
                    _metrics.Attempt(_upstream, server.Key, "error", _time.GetElapsedTime(attemptStarted));
                    var error = ex is OperationCanceledException
                        ? new TimeoutException(cutByTryTimeout
                            ? string.Create(CultureInfo.InvariantCulture, $"no response from {server.Key} within {attemptTimeout.TotalMilliseconds:0} ms, the rest of the try timeout of {tryTimeout!.Value.TotalMilliseconds:0} ms")
                            : string.Create(CultureInfo.InvariantCulture, $"no response from {server.Key} within {attemptTimeout.TotalMilliseconds:0} ms"), ex)
                        : ex;
                    HttpLog.AttemptFailed(_logger, request.Method.Method, original.AbsolutePath, attempt + 1, server.Key, _upstream, error.Message);
                    (attempts ??= new List<UpstreamAttempt>()).Add(new UpstreamAttempt(server, error));
                    (tried ??= new List<Server>()).Add(server);
                    stop = CallStopReason.TryLimitReached;
                    continue;
                }
                catch
                {
                    // Anything else (a request that cannot be sent, a bug below) is not the server's failure: it is
                    // released without a verdict, and the exception goes to the caller.
                    lease.Complete(LeaseOutcome.Cancelled);
                    throw;
                }
                finally
                {
                    // Unregistered first (waiting for a cancel in progress), so a source the caller cancelled is never reused.
                    callerCancels.Dispose();
                    _timeouts.Return(cancellation);
                }

                // One clock read serves the lease (latency for the selector) and the duration metric.
                var elapsed = _time.GetElapsedTime(attemptStarted);
                if (!upstream.FailureStatuses.Contains((int)response.StatusCode))
                {
                    lease.Complete(LeaseOutcome.Success, elapsed);
                    _metrics.Attempt(_upstream, server.Key, "success", elapsed);
                    return response;
                }

                lease.Complete(LeaseOutcome.Failure, elapsed);
                _metrics.Attempt(_upstream, server.Key, "failure_status", elapsed);
                if (_logger.IsEnabled(LogLevel.Warning))
                {
                    HttpLog.AttemptFailed(_logger, request.Method.Method, original.AbsolutePath, attempt + 1, server.Key, _upstream, string.Create(CultureInfo.InvariantCulture, $"status {(int)response.StatusCode}"));
                }

                (attempts ??= new List<UpstreamAttempt>()).Add(new UpstreamAttempt(server, null));
                (tried ??= new List<Server>()).Add(server);
                failedResponse?.Dispose();
                failedResponse = response;
                stop = CallStopReason.TryLimitReached;
            }

            if (failedResponse is not null)
            {
                // Every try failed and at least one with a response: the caller gets the last one, as a proxy would.
                if (_logger.IsEnabled(LogLevel.Warning))
                {
                    HttpLog.RequestFailed(_logger, request.Method.Method, original.AbsolutePath, _upstream, attempts!.Count, string.Create(CultureInfo.InvariantCulture, $"the last response, status {(int)failedResponse.StatusCode}, is returned ({stop})"));
                }

                var last = failedResponse;
                failedResponse = null;
                return last;
            }

            IReadOnlyList<UpstreamAttempt> made = (IReadOnlyList<UpstreamAttempt>?)attempts ?? Array.Empty<UpstreamAttempt>();
            UpstreamCallException failure = stop switch
            {
                CallStopReason.TryTimeoutExceeded => new TryTimeoutException(_upstream, tryTimeout!.Value, made),
                CallStopReason.NoSelectableServer => new NoServerAvailableException(_upstream, stop, "no selectable server", made),
                CallStopReason.TryLimitReached => new NoServerAvailableException(_upstream, stop, string.Create(CultureInfo.InvariantCulture, $"try limit of {tryLimit} reached"), made),
                CallStopReason.RetryBudgetExhausted => new NoServerAvailableException(_upstream, stop, "the retry budget is exhausted", made),
                _ => new NoServerAvailableException(_upstream, stop, "every selectable server was tried", made),
            };
            HttpLog.RequestFailed(_logger, request.Method.Method, original.AbsolutePath, _upstream, made.Count, failure.Message);
            throw new HttpRequestException(failure.Message, failure);
        }
        finally
        {
            failedResponse?.Dispose();
            request.RequestUri = original;
        }
    }

    /// <summary>The key hashing modes balance by: the request's own, else the path (<c>url_hash</c>) or the header (<c>header_hash</c>).</summary>
    private static string Key(HttpRequestMessage request, Uri original, Upstream upstream)
    {
        if (request.Options.TryGetValue(CheckupsRequestOptions.HashKey, out var key))
        {
            return key;
        }

        return upstream.Mode switch
        {
            BalancingModes.UrlHash => original.AbsolutePath,
            BalancingModes.HeaderHash when upstream.HashHeader is { } header
                && request.Headers.TryGetValues(header, out var values)
                && FirstOf(values) is { Length: > 0 } value => value,
            BalancingModes.HeaderHash => original.AbsolutePath,
            _ => string.Empty,
        };
    }

    private static string? FirstOf(IEnumerable<string> values)
    {
        foreach (string value in values)
        {
            return value;
        }

        return null;
    }

    /// <summary>
    /// Why the request may not be sent to a second server, or <see langword="null"/> when it may: its method allows it,
    /// and its content (if any) is of a known length within the cap, buffered now so that every attempt sends the same
    /// bytes.
    /// </summary>
    private async ValueTask<string?> CannotSendAgainAsync(HttpRequestMessage request)
    {
        if (!IsIdempotent(request.Method) && !(_options.RetryNonIdempotent && (request.Method == HttpMethod.Post || request.Method == HttpMethod.Patch)))
        {
            return _options.RetryNonIdempotent || (request.Method != HttpMethod.Post && request.Method != HttpMethod.Patch)
                ? "the method is not idempotent"
                : "the method is not idempotent (RetryNonIdempotent is off)";
        }

        var content = request.Content;
        if (content is null)
        {
            return null;
        }

        if (content.Headers.ContentLength is not { } length || length > _options.MaxRetryContentBytes)
        {
            return "the content's length is unknown or above MaxRetryContentBytes";
        }

        await content.LoadIntoBufferAsync(_options.MaxRetryContentBytes).ConfigureAwait(false);
        return null;
    }
}
