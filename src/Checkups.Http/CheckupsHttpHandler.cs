using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net.Http;
using System.Runtime.CompilerServices;
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

    /// <summary>The request option Microsoft.Extensions.Http.Resilience's handler sets: its presence means that handler runs outside this one.</summary>
    private const string OuterResilienceKey = "Resilience.Http.ResilienceContext";

    /// <summary>The owner of upstreams fed by ServiceDiscovery (package Checkups.ServiceDiscovery).</summary>
    private const string ServiceDiscoveryOwner = "servicediscovery";

    private int _outerResilienceLogged;

    /// <summary>The last address built for each server (see <see cref="AddressOn"/>); a power of two.</summary>
    private readonly BuiltAddress?[] _addresses = new BuiltAddress?[16];

    /// <summary>Initializes a handler for <paramref name="upstream"/>; set <see cref="DelegatingHandler.InnerHandler"/> when used without a factory.</summary>
    /// <param name="registry">The registry that holds the upstream.</param>
    /// <param name="upstream">The upstream name requests are addressed to.</param>
    /// <param name="options">The handler's options; <see langword="null"/> for the defaults.</param>
    /// <param name="time">The clock attempts are timed with for metrics and latency; <see langword="null"/> for the system clock. Attempt and try timeouts run on the registry's clock.</param>
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

    /// <summary>The scheme <paramref name="server"/> was discovered with, else the first of the preferred ones.</summary>
    private static string SchemeOf(Server server, string preferred) =>
        server.Metadata.TryGetValue("scheme", out var discovered) && discovered is "http" or "https"
            ? discovered
            : preferred[..preferred.IndexOf('+', StringComparison.Ordinal)];

    /// <summary>The request's address on <paramref name="server"/>: scheme, the server's host and port, the original path and query; one string, one <see cref="Uri"/>.</summary>
    private static Uri Address(string pathAndQuery, Server server, string scheme)
    {
        string host = server.Host;
        bool bracket = host.Contains(':', StringComparison.Ordinal) && host[0] != '[';
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

    /// <summary>A per-request try timeout as the engine takes it ("never" is a value the engine knows).</summary>
    private static TimeSpan? PerRequestTryTimeout(HttpRequestOptions? options) =>
        options is not null && options.TryGetValue(CheckupsRequestOptions.TryTimeout, out var perRequest) ? perRequest : null;

    /// <summary>
    /// The request's options when it has any, without creating them: <see cref="HttpRequestMessage.Options"/> allocates
    /// them on its first read, which a request that sets none would pay on every call.
    /// </summary>
    private static HttpRequestOptions? OptionsOf(HttpRequestMessage request)
    {
        if (!s_optionsFieldMissing)
        {
            try
            {
                return OptionsField(request);
            }
            catch (MissingFieldException)
            {
                // A runtime whose HttpRequestMessage keeps its options elsewhere: read them the public way from now on.
                s_optionsFieldMissing = true;
            }
        }

        return request.Options;
    }

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_options")]
    private static extern ref HttpRequestOptions? OptionsField(HttpRequestMessage request);

    private static bool s_optionsFieldMissing;

    /// <summary>
    /// Everything before the first attempt, without an await unless the content must be buffered for a retry: the
    /// asynchronous part (<see cref="AttemptsAsync"/>) then holds only what lives across an attempt.
    /// </summary>
    private Task<HttpResponseMessage> SendBalancedAsync(HttpRequestMessage request, Uri original, CancellationToken cancellationToken)
    {
        var upstream = _registry.Get(_upstream);
        _budget.Deposit();
        _metrics.Request(_upstream);
        var options = OptionsOf(request);
        int? tryLimit = null;
        if (options is not null)
        {
            if (options.TryGetValue(CheckupsRequestOptions.Try, out int tries))
            {
                tryLimit = Math.Max(1, tries);
            }

            if (((IDictionary<string, object?>)options).ContainsKey(OuterResilienceKey))
            {
                // A resilience handler (Microsoft.Extensions.Http.Resilience) runs outside this one: its retries are the
                // request's; Checkups makes one attempt per retry of it, each on the server the mode picks, instead of
                // multiplying them. AddCheckupsWithResilience puts Checkups outside, to own the retries across servers.
                tryLimit = 1;
                if (Interlocked.Exchange(ref _outerResilienceLogged, 1) == 0)
                {
                    HttpLog.OuterResilience(_logger, _upstream);
                }
            }
        }

        if ((tryLimit ?? upstream.Try) > 1)
        {
            var check = CannotSendAgainAsync(request);
            if (!check.IsCompletedSuccessfully)
            {
                return BufferedThenSendAsync(check, request, original, upstream, options, tryLimit, cancellationToken);
            }

            if (check.Result is { } notRetryable)
            {
                HttpLog.NotRetryable(_logger, request.Method.Method, original.AbsolutePath, _upstream, notRetryable);
                tryLimit = 1;
            }
        }

        return AttemptsAsync(request, original, Begin(request, original, upstream, options, tryLimit), cancellationToken);
    }

    /// <summary>The same, once the content is buffered (or found not to be sendable again).</summary>
    private async Task<HttpResponseMessage> BufferedThenSendAsync(ValueTask<string?> check, HttpRequestMessage request, Uri original, Upstream upstream, HttpRequestOptions? options, int? tryLimit, CancellationToken cancellationToken)
    {
        if (await check.ConfigureAwait(false) is { } notRetryable)
        {
            HttpLog.NotRetryable(_logger, request.Method.Method, original.AbsolutePath, _upstream, notRetryable);
            tryLimit = 1;
        }

        return await AttemptsAsync(request, original, Begin(request, original, upstream, options, tryLimit), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sets the Host header and begins the call on the attempt engine.</summary>
    private UpstreamCall Begin(HttpRequestMessage request, Uri original, Upstream upstream, HttpRequestOptions? options, int? tryLimit)
    {
        // ServiceDiscovery's servers are addressed as its own handler addresses them: by their authority.
        var hostHeader = _options.HostHeader ?? (upstream.Owner == ServiceDiscoveryOwner ? CheckupsHostHeader.Server : CheckupsHostHeader.LogicalName);
        if (hostHeader == CheckupsHostHeader.LogicalName && !request.Headers.NonValidated.Contains("Host"))
        {
            // The name the request was addressed to, as written (nginx's $proxy_host); the port only when not the default.
            request.Headers.TryAddWithoutValidation("Host", original.IsDefaultPort ? _upstream : string.Concat(_upstream, ":", original.Port.ToString(CultureInfo.InvariantCulture)));
        }

        // The attempt engine applies the try limit, the try timeout, the cluster order, the servers tried and the retry
        // budget, and builds the error; the handler sends, classifies and logs.
        IReadOnlyList<string>? clusterOrder = null;
        options?.TryGetValue(CheckupsRequestOptions.ClusterOrder, out clusterOrder);
        var settings = new CallSettings { Try = tryLimit, TryTimeout = PerRequestTryTimeout(options), ClusterOrder = clusterOrder, RetryGate = _budget };
        return _registry.BeginCall(upstream, Key(request, original, upstream, options), settings);
    }

    /// <summary>
    /// The request's address on <paramref name="server"/>. A ServiceDiscovery address names schemes in order of preference
    /// (<c>https+http://api</c>): each server is then sent the scheme it was discovered with, else the first one named.
    /// </summary>
    private Uri AddressOn(Uri original, Server server)
    {
        string scheme = _options.Scheme ?? original.Scheme;
        if (scheme.Contains('+', StringComparison.Ordinal))
        {
            scheme = SchemeOf(server, scheme);
        }

        // The last address built for this server (a slot per server, by identity) serves again when the scheme, path and
        // query are the same: a client that calls one endpoint over and over builds and parses no address per request.
        string pathAndQuery = original.PathAndQuery;
        ref var slot = ref _addresses[RuntimeHelpers.GetHashCode(server) & (_addresses.Length - 1)];
        var last = Volatile.Read(ref slot);
        if (last is not null && ReferenceEquals(last.Server, server) && string.Equals(last.PathAndQuery, pathAndQuery, StringComparison.Ordinal)
            && string.Equals(last.Scheme, scheme, StringComparison.Ordinal))
        {
            return last.Address;
        }

        var address = Address(pathAndQuery, server, scheme);
        Volatile.Write(ref slot, new BuiltAddress(server, scheme, pathAndQuery, address));
        return address;
    }

    /// <summary>An address built for a server; a <see cref="Uri"/> is immutable, so requests may share it.</summary>
    private sealed record BuiltAddress(Server Server, string Scheme, string PathAndQuery, Uri Address);

    /// <summary>The attempts: the only part that awaits, so its state (boxed once per request) holds what lives across one.</summary>
    private async Task<HttpResponseMessage> AttemptsAsync(HttpRequestMessage request, Uri original, UpstreamCall call, CancellationToken cancellationToken)
    {
        HttpResponseMessage? failedResponse = null;
        try
        {
            while (call.TryNext(out _))
            {
                if (call.Attempts > 1)
                {
                    _metrics.Retry(_upstream);
                    HttpLog.Retrying(_logger, request.Method.Method, original.AbsolutePath, _upstream, call.Attempts, call.TryLimit);
                }

                // A retry after a change picks from the upstream as it is now: its timeouts and failure statuses too. Only
                // the call lives across the await (call.Lease is the lease out), which keeps this method's state small.
                request.RequestUri = AddressOn(original, call.Lease.Server);
                long attemptStarted = _time.GetTimestamp();
                HttpResponseMessage response;
                try
                {
                    response = await base.SendAsync(request, StartAttemptTimeout(call, cancellationToken)).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    var lease = call.Lease;
                    lease.Complete(LeaseOutcome.Cancelled);
                    _metrics.Attempt(_upstream, lease.Server.Key, "cancelled", _time.GetElapsedTime(attemptStarted));
                    throw;
                }
                catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or System.IO.IOException)
                {
                    var lease = call.Lease;
                    var elapsed = _time.GetElapsedTime(attemptStarted);
                    // A cancellation by the attempt's own timer is its timeout; one from a handler below with a token of its
                    // own, and every other failure, is reported as it is.
                    var error = ex is OperationCanceledException && call.AttemptTimedOut ? call.CreateAttemptTimeoutError(ex) : ex;
                    lease.Complete(LeaseOutcome.Failure, elapsed, error);
                    _metrics.Attempt(_upstream, lease.Server.Key, "error", elapsed);
                    HttpLog.AttemptFailed(_logger, request.Method.Method, original.AbsolutePath, call.Attempts, lease.Server.Key, _upstream, error.Message);
                    continue;
                }
                catch
                {
                    // Anything else (a request that cannot be sent, a bug below) is not the server's failure: it is
                    // released without a verdict, and the exception goes to the caller.
                    call.Lease.Complete(LeaseOutcome.Cancelled);
                    throw;
                }

                if (Completed(request, original, call, response, _time.GetElapsedTime(attemptStarted)))
                {
                    return response;
                }

                failedResponse?.Dispose();
                failedResponse = response;
            }

            return Failed(request, original, call, ref failedResponse);
        }
        finally
        {
            call.Dispose();
            failedResponse?.Dispose();
            request.RequestUri = original;
        }
    }

    /// <summary>The attempt's token: the upstream's connect plus read timeout, cut to what is left of the try timeout, and the caller's token.</summary>
    private static CancellationToken StartAttemptTimeout(UpstreamCall call, CancellationToken cancellationToken)
    {
        var timeouts = call.Upstream.Timeouts;
        return call.StartAttemptTimeout(timeouts.Connect + timeouts.Read, cancellationToken);
    }

    /// <summary>Ends the attempt that got <paramref name="response"/>: <see langword="true"/> when it is the request's answer, <see langword="false"/> when its status is a failure.</summary>
    private bool Completed(HttpRequestMessage request, Uri original, UpstreamCall call, HttpResponseMessage response, TimeSpan took)
    {
        var lease = call.Lease;
        // One clock read serves the lease (latency for the selector) and the duration metric.
        if (!call.Upstream.FailureStatuses.Contains((int)response.StatusCode))
        {
            lease.Complete(LeaseOutcome.Success, took);
            _metrics.Attempt(_upstream, lease.Server.Key, "success", took);
            return true;
        }

        lease.Complete(LeaseOutcome.Failure, took, null);
        _metrics.Attempt(_upstream, lease.Server.Key, "failure_status", took);
        if (_logger.IsEnabled(LogLevel.Warning))
        {
            HttpLog.AttemptFailed(_logger, request.Method.Method, original.AbsolutePath, call.Attempts, lease.Server.Key, _upstream, string.Create(CultureInfo.InvariantCulture, $"status {(int)response.StatusCode}"));
        }

        return false;
    }

    /// <summary>No attempt answered: the last failure response (taken from <paramref name="failedResponse"/>), else the error.</summary>
    private HttpResponseMessage Failed(HttpRequestMessage request, Uri original, UpstreamCall call, ref HttpResponseMessage? failedResponse)
    {
        if (call.StopReason == CallStopReason.RetryRefused)
        {
            // Over budget: the caller gets the failure it has, so a struggling fleet is not buried in retries.
            _metrics.BudgetExhausted(_upstream);
            HttpLog.RetryBudgetExhausted(_logger, request.Method.Method, original.AbsolutePath, _upstream);
        }

        if (failedResponse is not null)
        {
            // Every try failed and at least one with a response: the caller gets the last one, as a proxy would.
            if (_logger.IsEnabled(LogLevel.Warning))
            {
                HttpLog.RequestFailed(_logger, request.Method.Method, original.AbsolutePath, _upstream, call.Attempts, string.Create(CultureInfo.InvariantCulture, $"the last response, status {(int)failedResponse.StatusCode}, is returned ({call.StopReason})"));
            }

            var last = failedResponse;
            failedResponse = null;
            return last;
        }

        var failure = call.ToException();
        HttpLog.RequestFailed(_logger, request.Method.Method, original.AbsolutePath, _upstream, failure.Attempts.Count, failure.Message);
        throw new HttpRequestException(failure.Message, failure);
    }

    /// <summary>The key hashing modes balance by: the request's own, else the path (<c>url_hash</c>) or the header (<c>header_hash</c>).</summary>
    private static string Key(HttpRequestMessage request, Uri original, Upstream upstream, HttpRequestOptions? options)
    {
        if (options is not null && options.TryGetValue(CheckupsRequestOptions.HashKey, out var key))
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
        if (HttpRetryRules.WhyNotRetried(request.Method.Method, _options.RetryNonIdempotent) is { } notRetried)
        {
            return notRetried;
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
