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

namespace Checkups.Http;

/// <summary>
/// Sends requests addressed to an upstream (<c>http://&lt;upstream&gt;/path?q</c>) to a server the upstream's mode
/// chooses, and on a failure to another one. Built on the core's public leases: each attempt is counted in flight,
/// and its outcome reaches passive health and the selector.
/// </summary>
/// <remarks>
/// <para>
/// A failure is a connection error or reset before a response, the attempt's timeout (the upstream's connect plus read
/// timeout), or a response whose status is in the upstream's <c>FailureStatuses</c>. The caller's cancellation is not a
/// failure and is not retried. Requests to another host pass through untouched.
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

    /// <summary>Initializes a handler for <paramref name="upstream"/>; set <see cref="DelegatingHandler.InnerHandler"/> when used without a factory.</summary>
    /// <param name="registry">The registry that holds the upstream.</param>
    /// <param name="upstream">The upstream name requests are addressed to.</param>
    /// <param name="options">The handler's options; <see langword="null"/> for the defaults.</param>
    /// <param name="time">The clock of attempt and try timeouts; <see langword="null"/> for the system clock.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public CheckupsHttpHandler(UpstreamRegistry registry, string upstream, CheckupsHttpOptions? options = null, TimeProvider? time = null)
        : this(registry, upstream, options ?? new CheckupsHttpOptions(), time ?? TimeProvider.System, null, null)
    {
    }

    /// <summary>The factory's constructor: the retry budget is the client's, shared by the handlers the factory rotates.</summary>
    internal CheckupsHttpHandler(UpstreamRegistry registry, string upstream, CheckupsHttpOptions options, TimeProvider time, RetryBudget? budget, HttpMetrics? metrics)
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

    private static Uri Address(Uri original, Server server, string scheme)
    {
        var address = new UriBuilder(original) { Scheme = scheme, Host = server.Host, Port = server.Port };
        return address.Uri;
    }

    private async Task<HttpResponseMessage> SendBalancedAsync(HttpRequestMessage request, Uri original, CancellationToken cancellationToken)
    {
        var upstream = _registry.Get(_upstream);
        _budget.Deposit();
        _metrics.Request(_upstream);
        var options = request.Options;
        int tryLimit = options.TryGetValue(CheckupsRequestOptions.Try, out int tries) ? Math.Max(1, tries) : upstream.Try;
        TimeSpan? tryTimeout = options.TryGetValue(CheckupsRequestOptions.TryTimeout, out var perRequest) ? perRequest : upstream.TryTimeout;
        options.TryGetValue(CheckupsRequestOptions.ClusterOrder, out var clusterOrder);
        string key = Key(request, original, upstream);
        if (tryLimit > 1 && !await CanSendAgainAsync(request).ConfigureAwait(false))
        {
            tryLimit = 1;
        }

        string scheme = _options.Scheme ?? original.Scheme;
        bool setHost = _options.HostHeader == CheckupsHostHeader.LogicalName && request.Headers.Host is null;
        if (setHost)
        {
            request.Headers.Host = original.Authority;
        }

        var attemptTimeout = upstream.Timeouts.Connect + upstream.Timeouts.Read;
        long started = _time.GetTimestamp();
        List<Server>? tried = null;
        List<UpstreamAttempt>? attempts = null;
        HttpResponseMessage? failedResponse = null;
        var stop = CallStopReason.EveryServerTried;
        try
        {
            for (int attempt = 0; attempt < tryLimit; attempt++)
            {
                if (attempt > 0 && tryTimeout is { } limit && _time.GetElapsedTime(started) >= limit)
                {
                    stop = CallStopReason.TryTimeoutExceeded;
                    break;
                }

                if (attempt > 0)
                {
                    if (!_budget.TryWithdraw())
                    {
                        // Over budget: the caller gets the failure it has, so a struggling fleet is not buried in retries.
                        _metrics.BudgetExhausted(_upstream);
                        stop = CallStopReason.RetryBudgetExhausted;
                        break;
                    }

                    _metrics.Retry(_upstream);
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
                using (var timeout = new CancellationTokenSource(attemptTimeout, _time))
                using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token))
                {
                    try
                    {
                        response = await base.SendAsync(request, linked.Token).ConfigureAwait(false);
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
                            ? new TimeoutException(string.Create(CultureInfo.InvariantCulture, $"no response from {server.Key} within {attemptTimeout.TotalMilliseconds:0} ms"), ex)
                            : ex;
                        (attempts ??= new List<UpstreamAttempt>()).Add(new UpstreamAttempt(server, error));
                        (tried ??= new List<Server>()).Add(server);
                        stop = CallStopReason.TryLimitReached;
                        continue;
                    }
                }

                if (!upstream.FailureStatuses.Contains((int)response.StatusCode))
                {
                    lease.Complete(LeaseOutcome.Success);
                    _metrics.Attempt(_upstream, server.Key, "success", _time.GetElapsedTime(attemptStarted));
                    return response;
                }

                lease.Complete(LeaseOutcome.Failure);
                _metrics.Attempt(_upstream, server.Key, "failure_status", _time.GetElapsedTime(attemptStarted));
                (attempts ??= new List<UpstreamAttempt>()).Add(new UpstreamAttempt(server, null));
                (tried ??= new List<Server>()).Add(server);
                failedResponse?.Dispose();
                failedResponse = response;
                stop = CallStopReason.TryLimitReached;
            }

            if (failedResponse is not null)
            {
                // Every try failed and at least one with a response: the caller gets the last one, as a proxy would.
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
    /// Whether the request may be sent to a second server: its method allows it, and its content (if any) is of a known
    /// length within the cap, buffered now so that every attempt sends the same bytes.
    /// </summary>
    private async Task<bool> CanSendAgainAsync(HttpRequestMessage request)
    {
        if (!IsIdempotent(request.Method) && !(_options.RetryNonIdempotent && (request.Method == HttpMethod.Post || request.Method == HttpMethod.Patch)))
        {
            return false;
        }

        var content = request.Content;
        if (content is null)
        {
            return true;
        }

        if (content.Headers.ContentLength is not { } length || length > _options.MaxRetryContentBytes)
        {
            return false;
        }

        await content.LoadIntoBufferAsync(_options.MaxRetryContentBytes).ConfigureAwait(false);
        return true;
    }
}
