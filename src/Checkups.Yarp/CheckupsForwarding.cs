using System;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Execution;
using Checkups.Http;
using Checkups.Model;
using Checkups.Registry;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Checkups.Yarp;

/// <summary>
/// The proxy pipeline's last step for clusters bound to a Checkups upstream (<c>UseCheckups()</c>): each request is one
/// call on Checkups' attempt engine, forwarded by YARP's <see cref="IHttpForwarder"/> to the server each lease gives,
/// with an attempt timeout that never outlives the try timeout. A failure before the response has started (a transport
/// error, a timeout, a status in the upstream's <c>FailureStatuses</c>) counts against the server and, for a request that
/// can be sent again, goes to another server within <c>Try</c>, <c>TryTimeout</c> and the cluster's retry budget. Once the
/// response has started nothing is retried. Clusters that are not bound go on down YARP's own pipeline.
/// </summary>
internal sealed class CheckupsForwarding
{
    private readonly UpstreamRegistry _registry;
    private readonly IHttpForwarder _forwarder;
    private readonly ClusterBinding _binding;
    private readonly CheckupsYarpOptions _options;
    private readonly CheckupsHttpTelemetry _telemetry;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, RetryBudget> _budgets = new(StringComparer.OrdinalIgnoreCase);

    public CheckupsForwarding(UpstreamRegistry registry, IHttpForwarder forwarder, ClusterBinding binding, CheckupsYarpOptions options, CheckupsHttpTelemetry telemetry, TimeProvider time)
    {
        _registry = registry;
        _forwarder = forwarder;
        _binding = binding;
        _options = options;
        _telemetry = telemetry;
        _time = time;
    }

    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var proxy = context.GetReverseProxyFeature();
        var cluster = proxy.Route.Cluster;
        if (cluster is null || _binding.Of(cluster.Model.Config) is not { Upstream: { } name } bound || !_registry.TryGet(name, out var upstream))
        {
            return next(context);
        }

        return ForwardAsync(context, proxy, cluster, bound, upstream);
    }

    private async Task ForwardAsync(HttpContext context, IReverseProxyFeature proxy, ClusterState cluster, ClusterBinding.Bound bound, Upstream upstream)
    {
        var request = context.Request;
        string method = request.Method;
        string path = request.Path.Value ?? "/";
        var budget = _budgets.GetOrAdd(cluster.ClusterId, static (_, self) => new RetryBudget(self._options.RetryBudgetRatio, self._options.RetryBudgetMinPerSecond, self._options.RetryBudgetWindow, self._time), this);
        budget.Deposit();
        _telemetry.RequestStarted(upstream.Name);

        int? tryLimit = null;
        if (upstream.Try > 1 && await WhyNotRetriedAsync(context, bound).ConfigureAwait(false) is { } notRetried)
        {
            _telemetry.NotRetryable(method, path, upstream.Name, notRetried);
            tryLimit = 1;
        }

        var config = cluster.Model.Config;
        var requestConfig = config.HttpRequest ?? ForwarderRequestConfig.Empty;
        var attempt = new AttemptTransformer(proxy.Route.Transformer);
        var call = _registry.BeginCall(upstream, KeyOf(context, bound, upstream), new CallSettings { Try = tryLimit, RetryGate = budget });
        int vetoedStatus = 0;
        try
        {
            while (call.TryNext(out var lease))
            {
                var current = call.Upstream;
                var server = lease.Server;
                if (call.Attempts > 1)
                {
                    _telemetry.Retrying(method, path, current.Name, call.Attempts, call.TryLimit);
                    Reset(context);
                }

                proxy.ProxiedDestination = cluster.Destinations.TryGetValue(server.Key, out var destination) ? destination : null;
                string prefix = destination?.Model.Config.Address ?? string.Concat(bound.Scheme, "://", server.Key, "/");

                // A failure status is held back (and the server's answer discarded) only while another attempt may follow;
                // the last one is passed on to the client, as the HttpClient handler returns the last response.
                attempt.Arm(mayRetry: call.Attempts < call.TryLimit && call.Attempts < ServerCount(current) && call.Remaining is not { Ticks: 0 }, current, call);
                long started = _time.GetTimestamp();
                var token = call.StartAttemptTimeout(current.Timeouts.Connect + current.Timeouts.Read, context.RequestAborted);
                ForwarderError error;
                try
                {
                    error = await _forwarder.SendAsync(context, prefix, cluster.Model.HttpClient, requestConfig, attempt, token).ConfigureAwait(false);
                }
                catch
                {
                    // Not the server's failure (a transform that threw, a bug): released without a verdict.
                    lease.Complete(LeaseOutcome.Cancelled);
                    throw;
                }

                var elapsed = _time.GetElapsedTime(started);
                if (context.RequestAborted.IsCancellationRequested || (!call.AttemptTimedOut && IsClientSide(error)))
                {
                    // The client went away or sent a broken body: not the server's failure, and nothing to retry for.
                    lease.Complete(LeaseOutcome.Cancelled);
                    _telemetry.AttemptEnded(method, path, current.Name, server, call.Attempts, "cancelled", elapsed);
                    return;
                }

                if (attempt.Vetoed is { } status)
                {
                    vetoedStatus = status;
                    lease.Complete(LeaseOutcome.Failure, elapsed, null);
                    _telemetry.AttemptEnded(method, path, current.Name, server, call.Attempts, "failure_status", elapsed, Status(status));
                    continue;
                }

                if (error == ForwarderError.None)
                {
                    int answered = context.Response.StatusCode;
                    bool failed = HttpRetryRules.IsFailureStatus(current, answered);
                    lease.Complete(failed ? LeaseOutcome.Failure : LeaseOutcome.Success, elapsed, null);
                    _telemetry.AttemptEnded(method, path, current.Name, server, call.Attempts, failed ? "failure_status" : "success", elapsed, failed ? Status(answered) : null);
                    return;
                }

                var thrown = context.GetForwarderErrorFeature()?.Exception;
                var failure = call.AttemptTimedOut || error == ForwarderError.RequestTimedOut
                    ? call.CreateAttemptTimeoutError(thrown)
                    : thrown ?? new HttpRequestException("forwarding failed: " + error.ToString());
                lease.Complete(LeaseOutcome.Failure, elapsed, failure);
                _telemetry.AttemptEnded(method, path, current.Name, server, call.Attempts, "error", elapsed, failure.Message);
                if (context.Response.HasStarted)
                {
                    // Never after the response has started: the client already has part of an answer.
                    return;
                }
            }

            if (call.StopReason == CallStopReason.RetryRefused)
            {
                _telemetry.RetryRefused(method, path, call.Upstream.Name);
            }

            if (!context.Response.HasStarted && call.StopReason is { } stopped)
            {
                var reason = call.ToException();
                _telemetry.RequestFailed(method, path, call.Upstream.Name, call.Attempts, reason.Message);
                if (vetoedStatus != 0 && context.Features.Get<IForwarderErrorFeature>() is null)
                {
                    // The last answer was a failure status held back for a retry that did not come: the client gets it.
                    context.Response.Clear();
                    context.Response.StatusCode = vetoedStatus;
                }
                else if (call.Attempts == 0)
                {
                    context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                }
                else if (context.Response.StatusCode == StatusCodes.Status200OK)
                {
                    context.Response.StatusCode = stopped == CallStopReason.TryTimeoutExceeded ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status502BadGateway;
                }
            }
        }
        finally
        {
            call.Dispose();
        }
    }

    /// <summary>Ready for another attempt: nothing of the failed one's answer is kept, and the body is read from its start.</summary>
    private static void Reset(HttpContext context)
    {
        context.Response.Clear();
        context.Features.Set<IForwarderErrorFeature>(null);
        if (context.Request.Body.CanSeek)
        {
            context.Request.Body.Position = 0;
        }
    }

    /// <summary>
    /// Why the request may not go to a second server, or <see langword="null"/> when it may: its method allows it, and a
    /// body (if any) was buffered whole, which only <see cref="CheckupsYarpOptions.BufferRequestBodies"/> does.
    /// </summary>
    private async ValueTask<string?> WhyNotRetriedAsync(HttpContext context, ClusterBinding.Bound bound)
    {
        var request = context.Request;
        if (HttpRetryRules.WhyNotRetried(request.Method, bound.RetryNonIdempotent) is { } method)
        {
            return method;
        }

        // The server's own verdict (what YARP asks too): an HTTP/2 or HTTP/3 body comes with neither a length nor chunking.
        bool hasBody = context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody
            ?? (request.ContentLength is > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0));
        if (!hasBody)
        {
            return null;
        }

        if (!_options.BufferRequestBodies)
        {
            return "the request has a body and BufferRequestBodies is off";
        }

        if (request.ContentLength is not { } length || length > _options.MaxRetryBodyBytes)
        {
            return "the body's length is unknown or above MaxRetryBodyBytes";
        }

        // Read whole now, so that every attempt sends the same bytes from the start (in memory up to 64 KiB, beyond in a
        // temporary file, as ASP.NET Core buffers).
        request.EnableBuffering(bufferThreshold: (int)Math.Min(length, 64 * 1024), bufferLimit: _options.MaxRetryBodyBytes);
        await request.Body.DrainAsync(context.RequestAborted).ConfigureAwait(false);
        request.Body.Position = 0;
        return null;
    }

    /// <summary>The hash key hashing modes balance by: the cluster's <see cref="CheckupsYarpMetadata.HashKey"/>, else the mode's own.</summary>
    internal static string KeyOf(HttpContext context, ClusterBinding.Bound bound, Upstream upstream)
    {
        if (bound.HashKey is { } source)
        {
            return source.Of(context);
        }

        return upstream.Mode switch
        {
            BalancingModes.UrlHash => context.Request.Path.Value ?? string.Empty,
            BalancingModes.HeaderHash when upstream.HashHeader is { } header && context.Request.Headers[header] is { Count: > 0 } values
                && values[0] is { Length: > 0 } value => value,
            BalancingModes.HeaderHash => context.Request.Path.Value ?? string.Empty,
            BalancingModes.IpHash => context.Connection.RemoteIpAddress?.ToString() ?? string.Empty,
            _ => string.Empty,
        };
    }

    private static int ServerCount(Upstream upstream)
    {
        int count = 0;
        foreach (var cluster in upstream.Clusters)
        {
            count += cluster.Servers.Length;
        }

        return count;
    }

    /// <summary>
    /// Errors the client caused (its body broke off, it stopped reading): no verdict on the server. A cancellation that
    /// is neither the client's nor the attempt's timeout is counted against the server.
    /// </summary>
    private static bool IsClientSide(ForwarderError error) =>
        error is ForwarderError.RequestBodyClient or ForwarderError.ResponseBodyClient
            or ForwarderError.UpgradeRequestClient or ForwarderError.UpgradeResponseClient;

    private static string Status(int status) => string.Create(CultureInfo.InvariantCulture, $"status {status}");
}

/// <summary>
/// The transformer a request's attempts are forwarded with, one per request: the route's own transforms, except that a
/// response whose status is one of the upstream's failure statuses is discarded (not copied to the client) while another
/// attempt may follow, so the request can be retried before its response has started.
/// </summary>
internal sealed class AttemptTransformer(HttpTransformer inner) : HttpTransformer
{
    private Upstream? _upstream;
    private UpstreamCall? _call;
    private bool _mayRetry;

    /// <summary>Gets the failure status held back in the last attempt, if one was.</summary>
    public int? Vetoed { get; private set; }

    /// <summary>Readies the next attempt: whether another may follow it, the upstream whose failure statuses count, its call.</summary>
    public void Arm(bool mayRetry, Upstream upstream, UpstreamCall call)
    {
        _mayRetry = mayRetry;
        _upstream = upstream;
        _call = call;
        Vetoed = null;
    }

    public override ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken) =>
        inner.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);

    public override ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        if (proxyResponse is not null && _mayRetry && _upstream is not null && HttpRetryRules.IsFailureStatus(_upstream, (int)proxyResponse.StatusCode))
        {
            Vetoed = (int)proxyResponse.StatusCode;
            return new ValueTask<bool>(false);
        }

        if (proxyResponse is not null)
        {
            // The answer has begun: the forwarder's token covers the body and an upgraded connection too, which the
            // attempt's timeout must not cut (nor blame the server for).
            _call?.StopAttemptTimeout();
        }

        return inner.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
    }

    public override ValueTask TransformResponseTrailersAsync(HttpContext httpContext, HttpResponseMessage proxyResponse, CancellationToken cancellationToken) =>
        inner.TransformResponseTrailersAsync(httpContext, proxyResponse, cancellationToken);
}
