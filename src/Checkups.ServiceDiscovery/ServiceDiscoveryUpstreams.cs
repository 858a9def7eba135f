using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Registry;
using Checkups.Sources;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.ServiceDiscovery;

namespace Checkups.ServiceDiscovery;

/// <summary>One service an upstream is fed from (<c>AddCheckups().AddServiceDiscovery("https+http://api")</c>).</summary>
public sealed class ServiceDiscoveryUpstreamOptions
{
    /// <summary>
    /// Gets or sets the service as ServiceDiscovery's users write it: <c>api</c>, <c>https+http://api</c> (schemes in order of
    /// preference), <c>http://_grpc.api</c> (a named endpoint).
    /// </summary>
    /// <value>Required.</value>
    public string Query { get; set; } = string.Empty;

    /// <summary>
    /// Gets or sets the upstream's name; an HttpClient through Checkups addresses it as its host (<c>http://api/</c>).
    /// </summary>
    /// <value>Default <see langword="null"/>: the query without its schemes (<c>api</c>, <c>_grpc.api</c>).</value>
    public string? Upstream { get; set; }

    /// <summary>Gets the upstream's options other than its servers (mode, try, timeouts, heartbeat…).</summary>
    /// <value>Default: Checkups' defaults.</value>
    public UpstreamOptions Template { get; } = new();

    /// <summary>Gets the options of each discovered server but its host and port: its passive health, say.</summary>
    /// <value>Default: weight 1, <c>MaxFails</c> 1 (a failure takes a server out for <c>FailTimeout</c>, 10 s).</value>
    public ServerOptions ServerTemplate { get; } = new() { MaxFails = 1 };

    /// <summary>Gets or sets how long the host's start waits for the first endpoints.</summary>
    /// <value>Default 10 seconds.</value>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets how often endpoints are read again when their provider gives no change notification (DNS).</summary>
    /// <value>Default 60 seconds.</value>
    public TimeSpan RefreshPeriod { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The upstream's name: <see cref="Upstream"/>, or the query's service part.</summary>
    internal string UpstreamName => Upstream ?? ServiceOf(Query);

    /// <summary>The schemes the query prefers, in order (empty when it names none).</summary>
    internal IReadOnlyList<string> Schemes
    {
        get
        {
            int separator = Query.IndexOf("://", StringComparison.Ordinal);
            return separator < 0 ? Array.Empty<string>() : Query[..separator].Split('+', StringSplitOptions.RemoveEmptyEntries);
        }
    }

    /// <summary>Checks every option.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public void Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Query) || !ServiceEndpointQuery.TryParse(Query, out _))
        {
            errors.Add($"Query must be a ServiceDiscovery service name such as api, https+http://api or http://_grpc.api (was '{Query}')");
        }
        else if (Model.UpstreamName.Problem(UpstreamName) is { } problem)
        {
            errors.Add($"the upstream's name '{UpstreamName}' {problem}");
        }

        if (Template.Servers.Count > 0 || Template.Clusters.Count > 0 || Template.NamedClusters.Count > 0)
        {
            errors.Add("Template must have no servers or clusters: they come from ServiceDiscovery");
        }

        if (StartTimeout <= TimeSpan.Zero || RefreshPeriod <= TimeSpan.Zero)
        {
            errors.Add($"StartTimeout and RefreshPeriod must be positive (were {StartTimeout}, {RefreshPeriod})");
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException($"ServiceDiscovery upstream '{Query}': {string.Join("; ", errors)}.");
        }
    }

    private static string ServiceOf(string query)
    {
        int separator = query.IndexOf("://", StringComparison.Ordinal);
        string rest = separator < 0 ? query : query[(separator + 3)..];
        int port = rest.LastIndexOf(':');
        return (port < 0 ? rest : rest[..port]).TrimEnd('/');
    }
}

/// <summary>
/// The source every ServiceDiscovery-fed upstream belongs to (owner <c>servicediscovery</c>): the endpoints the providers
/// give (configuration <c>Services:api:https:0</c>, Aspire's <c>services__api__http__0</c>, any provider registered), as
/// an upstream's servers.
/// </summary>
internal sealed class ServiceDiscoverySource : IUpstreamSource, IUpstreamSourceStatus, IDisposable
{
    public const string SourceName = "servicediscovery";

    private readonly object _gate = new();
    private readonly Dictionary<string, UpstreamOptions> _upstreams = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> _errors = new(StringComparer.OrdinalIgnoreCase);
    private CancellationTokenSource _changed = new();
    private DateTimeOffset? _lastSuccess;

    public string Name => SourceName;

    public UpstreamSourceSnapshot GetSnapshot()
    {
        lock (_gate)
        {
            return new UpstreamSourceSnapshot(new Dictionary<string, UpstreamOptions>(_upstreams, StringComparer.OrdinalIgnoreCase), new CancellationChangeToken(_changed.Token));
        }
    }

    public SourceStatus GetSourceStatus()
    {
        lock (_gate)
        {
            string? error = _errors.Count == 0 ? null : string.Join("; ", _errors.Select(e => $"{e.Key}: {e.Value}"));
            return new SourceStatus(_lastSuccess, error, new Dictionary<string, string> { ["services"] = string.Join(", ", _upstreams.Keys.Order(StringComparer.Ordinal)) });
        }
    }

    /// <summary>Publishes an upstream's new servers (the registry applies them before this returns, or keeps the last ones).</summary>
    public void Publish(string upstream, UpstreamOptions options, DateTimeOffset at)
    {
        CancellationTokenSource fired;
        lock (_gate)
        {
            _upstreams[upstream] = options;
            _errors.Remove(upstream);
            _lastSuccess = at;
            fired = _changed;
            _changed = new CancellationTokenSource();
        }

        fired.Cancel();
        fired.Dispose();
    }

    /// <summary>Records why an upstream's endpoints could not be used; its last good servers stay.</summary>
    public void Failed(string upstream, string error)
    {
        lock (_gate)
        {
            _errors[upstream] = error;
        }
    }

    /// <summary>Takes <paramref name="upstream"/> out of the snapshots, so that the others apply without it.</summary>
    public void Withdraw(string upstream)
    {
        CancellationTokenSource fired;
        lock (_gate)
        {
            if (!_upstreams.Remove(upstream))
            {
                return;
            }

            fired = _changed;
            _changed = new CancellationTokenSource();
        }

        fired.Cancel();
        fired.Dispose();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _changed.Dispose();
        }
    }
}

/// <summary>
/// Follows the services of <see cref="ServiceDiscoverySource"/>: reads each one's endpoints at the host's start (bounded by
/// its <c>StartTimeout</c>), publishes them as the upstream's servers, and reads them again when their change token fires
/// (a configuration reload) or every <c>RefreshPeriod</c> when the provider gives none.
/// </summary>
internal sealed class ServiceDiscoveryWatch : IHostedService, IDisposable
{
    private readonly ServiceEndpointResolver _resolver;
    private readonly UpstreamRegistry _registry;
    private readonly ServiceDiscoverySource _source;
    private readonly IReadOnlyList<ServiceDiscoveryUpstreamOptions> _services;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    // One per service: its change token's registration or its refresh timer, replaced at each read (each fires once).
    private readonly Dictionary<ServiceDiscoveryUpstreamOptions, IDisposable> _subscriptions = new(ReferenceEqualityComparer.Instance);
    private bool _stopped;

    public ServiceDiscoveryWatch(ServiceEndpointResolver resolver, UpstreamRegistry registry, ServiceDiscoverySource source, IEnumerable<ServiceDiscoveryUpstreamOptions> services, TimeProvider? time, ILogger<ServiceDiscoveryWatch>? logger)
    {
        _resolver = resolver;
        _registry = registry;
        _source = source;
        _services = services.ToList();
        _time = time ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Reads every service at once, each bounded by its <see cref="ServiceDiscoveryUpstreamOptions.StartTimeout"/>: N unreachable services hold the host's start for one bound, not N.</summary>
    public Task StartAsync(CancellationToken cancellationToken) => Task.WhenAll(_services.Select(service => StartAsync(service, cancellationToken)));

    private async Task StartAsync(ServiceDiscoveryUpstreamOptions service, CancellationToken cancellationToken)
    {
        using var bound = new CancellationTokenSource(service.StartTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, bound.Token);
        try
        {
            await ResolveAsync(service, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (bound.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            Failed(service, $"no endpoints within {service.StartTimeout}");
            Follow(service, null);
        }
    }

    /// <summary>Gets how many change registrations and refresh timers the watch holds (one per service while it runs).</summary>
    internal int Subscriptions
    {
        get
        {
            lock (_subscriptions)
            {
                return _subscriptions.Count;
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Stop();
        return Task.CompletedTask;
    }

    public void Dispose() => Stop();

    /// <summary>
    /// Cancels any read in flight and drops every subscription; idempotent. The token source is never disposed: a timer or
    /// callback already running may still read its token, and a source without a timer holds nothing to release.
    /// </summary>
    private void Stop()
    {
        IDisposable[] subscriptions;
        lock (_subscriptions)
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
            subscriptions = _subscriptions.Values.ToArray();
            _subscriptions.Clear();
        }

        _stopping.Cancel();
        foreach (var subscription in subscriptions)
        {
            subscription.Dispose();
        }
    }

    private async Task ResolveAsync(ServiceDiscoveryUpstreamOptions service, CancellationToken cancellationToken)
    {
        ServiceEndpointSource endpoints;
        try
        {
            endpoints = await _resolver.GetEndpointsAsync(service.Query, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Failed(service, $"{ex.GetType().Name}: {ex.Message}");
            Follow(service, null);
            return;
        }

        var upstream = Upstream(service, endpoints);
        if (upstream.Servers.Count == 0)
        {
            // Nothing where servers were expected: never applied silently; the last good servers stay. The pass-through
            // provider's answer (the service's name itself, port 0) is not an endpoint: a misspelled name would become a server.
            string hint = service.Schemes.Count == 0
                ? $"; a query without a scheme reads Services:{service.UpstreamName}:default only, write the schemes to read Services:{service.UpstreamName}:https or :http (https+http://{service.UpstreamName})"
                : string.Empty;
            Failed(service, endpoints.Endpoints.Count > 0
                ? $"ServiceDiscovery found no endpoint for '{service.Query}' (only the pass-through provider answered: nothing in configuration or DNS{hint}); the last good servers stay"
                : $"ServiceDiscovery found no endpoint for '{service.Query}'{hint}; the last good servers stay");
        }
        else
        {
            // A name another source owns is not published: the registry refuses a source's snapshot whole, so it would hold
            // back every other service's change too. Checked again after publishing, for a source that took it meanwhile.
            if (OwnedElsewhere(service.UpstreamName) is null)
            {
                _source.Publish(service.UpstreamName, upstream, _time.GetUtcNow());
            }

            if (OwnedElsewhere(service.UpstreamName) is { } owner)
            {
                _source.Withdraw(service.UpstreamName);
                Failed(service, $"the upstream '{service.UpstreamName}' belongs to the source '{owner}', which ServiceDiscovery leaves as it is (remove it there, or give this service another name with Upstream)");
            }
            else
            {
                Log.Applied(_logger, service.UpstreamName, upstream.Servers.Count, service.Query);
            }
        }

        Follow(service, endpoints.ChangeToken);
    }

    /// <summary>Reads the service again when its token fires, or after its refresh period when it has none that fires by itself.</summary>
    private void Follow(ServiceDiscoveryUpstreamOptions service, IChangeToken? token)
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        IDisposable subscription;
        if (token is { ActiveChangeCallbacks: true })
        {
            subscription = token.RegisterChangeCallback(static state => ((Action)state!)(), (Action)(() => Again(service)));
        }
        else
        {
            subscription = _time.CreateTimer(static state => ((Action)state!)(), (Action)(() => Again(service)), service.RefreshPeriod, Timeout.InfiniteTimeSpan);
        }

        IDisposable? previous = subscription;
        lock (_subscriptions)
        {
            if (!_stopped)
            {
                // The previous one has fired (that is why the service was read again): let it go, or every read of a
                // long-lived host would keep one more registration or timer.
                _subscriptions.Remove(service, out previous);
                _subscriptions[service] = subscription;
            }
        }

        // The one replaced, or this one when stopped while it was being set up: nothing may fire after the host stopped.
        previous?.Dispose();
    }

    private void Again(ServiceDiscoveryUpstreamOptions service) =>
        _ = Task.Run(async () =>
        {
            try
            {
                await ResolveAsync(service, _stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
            }
        });

    /// <summary>The source that owns <paramref name="upstream"/> when it is not ServiceDiscovery; <see langword="null"/> when none other does.</summary>
    private string? OwnedElsewhere(string upstream) =>
        _registry.TryGet(upstream, out var existing) && existing.Owner != ServiceDiscoverySource.SourceName ? existing.Owner : null;

    private void Failed(ServiceDiscoveryUpstreamOptions service, string error)
    {
        _source.Failed(service.UpstreamName, error);
        Log.Failed(_logger, service.UpstreamName, service.Query, error);
    }

    /// <summary>The upstream of the endpoints: the template with one server per distinct endpoint.</summary>
    internal static UpstreamOptions Upstream(ServiceDiscoveryUpstreamOptions service, ServiceEndpointSource endpoints)
    {
        var upstream = service.Template.Clone();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        string defaultScheme = service.Schemes.Count > 0 ? service.Schemes[0] : "http";
        foreach (var endpoint in endpoints.Endpoints)
        {
            if (IsPassThrough(endpoint))
            {
                continue;
            }

            (string? host, int port, string scheme) = endpoint.EndPoint switch
            {
                UriEndPoint uri => (uri.Uri.Host, uri.Uri.IsDefaultPort ? (uri.Uri.Scheme == "https" ? 443 : 80) : uri.Uri.Port, uri.Uri.Scheme),
                DnsEndPoint dns => (dns.Host, dns.Port, defaultScheme),
                IPEndPoint ip => (ip.Address.ToString(), ip.Port, defaultScheme),
                _ => (null, 0, defaultScheme),
            };
            if (host is null)
            {
                continue;
            }

            if (port == 0)
            {
                port = scheme == "https" ? 443 : 80;
            }

            if (!seen.Add(string.Concat(host, ":", port.ToString(CultureInfo.InvariantCulture))))
            {
                continue;
            }

            var server = service.ServerTemplate.Clone();
            server.Host = host;
            server.Port = port;
            server.Metadata[ServiceDiscoveryMetadata.Scheme] = scheme;
            upstream.Servers.Add(server);
        }

        return upstream;
    }

    /// <summary>An endpoint the pass-through provider made up from the service's name when no other provider knew it.</summary>
    private static bool IsPassThrough(ServiceEndpoint endpoint) =>
        endpoint.Features.Get<IServiceEndpointProvider>()?.GetType().Name == "PassThroughServiceEndpointProvider";
}

/// <summary>Metadata ServiceDiscovery-fed servers carry.</summary>
public static class ServiceDiscoveryMetadata
{
    /// <summary>
    /// The scheme the endpoint was discovered with (<c>https</c> or <c>http</c>): the HttpClient handler sends a request
    /// addressed with several schemes (<c>https+http://api</c>) with it.
    /// </summary>
    public const string Scheme = "scheme";
}

/// <summary>The log lines of ServiceDiscovery-fed upstreams (category <c>Checkups.ServiceDiscovery</c>), ids from 401.</summary>
internal static partial class Log
{
    [LoggerMessage(401, LogLevel.Information, "ServiceDiscovery upstream {Upstream}: applied {Servers} server(s) from {Query}")]
    public static partial void Applied(ILogger logger, string upstream, int servers, string query);

    [LoggerMessage(402, LogLevel.Warning, "ServiceDiscovery upstream {Upstream} ({Query}): {Error}")]
    public static partial void Failed(ILogger logger, string upstream, string query, string error);
}
