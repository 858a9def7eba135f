using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Registry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Checkups.Consul;

/// <summary>
/// Follows one upstream's server list in Consul with blocking queries and feeds it to the registry as a source that
/// owns that upstream. A list is applied only when it differs from the last one, through the registry's validated,
/// atomic update (health of servers that stay is kept). Errors keep the last good list and back off exponentially, with
/// jitter; answers that bring nothing new are rate limited (token bucket, burst 2), so a misbehaving agent cannot make
/// the loop spin.
/// </summary>
public sealed class ConsulWatch : IAsyncDisposable
{
    private readonly UpstreamRegistry _registry;
    private readonly ConsulOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConsulClient _client;
    private readonly ConsulUpstreamSource _source;
    private readonly string _path;
    private readonly string _keyPrefix;
    private readonly CancellationTokenSource _stopping = new();
    private readonly object _statusGate = new();
    private IDisposable? _subscription;
    private Task? _loop;
    private string? _published;
    private double _tokens = 2;
    private long _tokensAt;
    private ulong _lastIndex;
    private DateTimeOffset? _lastSuccess;
    private string? _lastError;
    private bool _applied;
    private bool _accessChecked;

    /// <summary>Initializes a watch; nothing is read before <see cref="StartAsync"/>.</summary>
    /// <param name="registry">The registry the upstream is fed to.</param>
    /// <param name="options">What to read, and how.</param>
    /// <param name="time">The clock of timeouts, backoff and rate limit; <see langword="null"/> for the system clock.</param>
    /// <param name="logger">Where warnings and changes are logged (event ids from 201).</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public ConsulWatch(UpstreamRegistry registry, ConsulOptions options, TimeProvider? time = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _registry = registry;
        _options = options;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _client = new ConsulClient(options, _time);
        _source = new ConsulUpstreamSource(options.SourceName, options.Upstream, SourceStatus);
        (_keyPrefix, _path) = options.Kind switch
        {
            ConsulWatchKind.KvPerUpstream => (options.KeyPrefix + options.Upstream, "v1/kv/" + EscapePath(options.KeyPrefix + options.Upstream)),
            ConsulWatchKind.ServiceHealth => (string.Empty, "v1/health/service/" + Uri.EscapeDataString(options.ServiceName)),
            _ => (options.KeyPrefix + options.Upstream + "/", "v1/kv/" + EscapePath(options.KeyPrefix + options.Upstream + "/") + "?recurse"),
        };
        _tokensAt = _time.GetTimestamp();
    }

    /// <summary>Gets the upstream this watch feeds.</summary>
    public string Upstream => _options.Upstream;

    /// <summary>Gets the last <c>X-Consul-Index</c> read (0 before the first answer).</summary>
    public ulong LastIndex
    {
        get
        {
            lock (_statusGate)
            {
                return _lastIndex;
            }
        }
    }

    /// <summary>Gets when Consul last answered.</summary>
    public DateTimeOffset? LastSuccess
    {
        get
        {
            lock (_statusGate)
            {
                return _lastSuccess;
            }
        }
    }

    /// <summary>Gets the last error, or <see langword="null"/> when the last read succeeded.</summary>
    public string? LastError
    {
        get
        {
            lock (_statusGate)
            {
                return _lastError;
            }
        }
    }

    /// <summary>
    /// Reads the list once (within <see cref="ConsulOptions.StartTimeout"/>), attaches the source to the registry, and
    /// follows changes in the background.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting for the first answer.</param>
    /// <returns>A task that completes when the first answer is applied (or Consul could not be reached).</returns>
    /// <exception cref="ConsulException">Consul could not be read and <see cref="ConsulOptions.StrongDependency"/> is set.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        ulong index = 0;
        bool fromConsul = true;
        using (var bound = new CancellationTokenSource(_options.StartTimeout, _time))
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, bound.Token, _stopping.Token))
        {
            try
            {
                var response = await _client.GetAsync(_path, 0, _options.Wait, linked.Token).ConfigureAwait(false);
                await CheckAccessAsync(response, linked.Token).ConfigureAwait(false);
                index = Handle(response, 0, attached: false);
            }
            catch (Exception ex) when (ex is ConsulException || (ex is OperationCanceledException && bound.IsCancellationRequested && !cancellationToken.IsCancellationRequested))
            {
                string error = ex is ConsulException ? ex.Message : $"no answer within {_options.StartTimeout}";
                Failed(error);
                if (_options.StrongDependency)
                {
                    throw new ConsulException($"Consul watch of upstream '{Upstream}' cannot start: {error}", ex);
                }

                if (ReadDump() is { } dumped)
                {
                    // Consul is down: start from the list last applied, and keep polling.
                    ConsulLog.StartedFromDump(_logger, Upstream, _options.DumpFile!, error);
                    _source.Publish(dumped);
                    _published = Fingerprint(dumped);
                    fromConsul = false;
                }
            }
        }

        _subscription = _registry.AddSource(_source);
        if (fromConsul && _published is not null)
        {
            WriteDump(_source.Current);
        }

        _registry.Changed += OnChanged;
        _loop = Task.Run(() => RunAsync(index, _stopping.Token), CancellationToken.None);
    }

    /// <summary>Stops following Consul; the upstream stays as last applied until the source is detached.</summary>
    /// <returns>A task that completes when the loop has ended.</returns>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is { } loop)
        {
            await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _registry.Changed -= OnChanged;
        _subscription?.Dispose();
        _source.Dispose();
        _client.Dispose();
        _stopping.Dispose();
    }

    private static string EscapePath(string key)
    {
        var parts = key.Split('/');
        for (int i = 0; i < parts.Length; i++)
        {
            parts[i] = Uri.EscapeDataString(parts[i]);
        }

        return string.Join('/', parts);
    }

    private async Task RunAsync(ulong index, CancellationToken cancellationToken)
    {
        int failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var response = await _client.GetAsync(_path, index, _options.Wait, cancellationToken).ConfigureAwait(false);
                await CheckAccessAsync(response, cancellationToken).ConfigureAwait(false);

                // Another agent than the last one answered from 0 (an index is one agent's): compare with what was sent.
                ulong sent = response.Sent;
                index = Handle(response, sent, attached: true);
                failures = 0;
                if (response.Index == sent)
                {
                    // Nothing new (the wait ran out, or the agent answered at once with the same index): rate limited.
                    await TakeTokenAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Anything else that goes wrong (an unexpected exception from a parser or the HTTP stack) is a failed read
                // too: the loop must never end while the watch runs, or the upstream would silently stop following Consul.
                failures++;

                // The agent may have restarted with other data (its index back at the start): a blocking query from the
                // old index would wait out the whole wait before saying so. The next read is a plain one, from 0.
                index = 0;
                _accessChecked = false;
                var backoff = Backoff(failures);
                string reason = ex is ConsulException or System.Text.Json.JsonException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
                Failed(reason);
                ConsulLog.ReadFailed(_logger, Upstream, "/" + _path.Split('?')[0], reason, backoff);
                try
                {
                    await Task.Delay(backoff, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Applies one answer when its list differs from the last; returns the index to send next.</summary>
    private ulong Handle(ConsulResponse response, ulong sent, bool attached)
    {
        ulong next = BlockingIndex.Next(sent, response.Index);
        lock (_statusGate)
        {
            // After an error the loop reads from index 0; the index known before it tells whether Consul's went back.
            ulong known = sent == 0 ? _lastIndex : sent;
            if (response.Index < known)
            {
                ConsulLog.IndexReset(_logger, Upstream, known, response.Index);
            }

            _lastIndex = response.Index;
            _lastSuccess = _time.GetUtcNow();
            _lastError = null;
        }

        var warnings = new List<string>();
        string? rejected = null;
        var upstream = response.Status == HttpStatusCode.NotFound ? null
            : _options.Kind switch
            {
                ConsulWatchKind.KvPerUpstream => ReadUpstreamKey(response.Body, out rejected),
                ConsulWatchKind.ServiceHealth => WithServers(ServiceHealthParser.Parse(response.Body, _options, warnings), null),
                _ => ReadServerKeys(response.Body, warnings),
            };
        foreach (string warning in warnings)
        {
            ConsulLog.ValueWarning(_logger, Upstream, warning);
        }

        if (rejected is not null)
        {
            // The value is not an upstream: rejected whole, and the last good one stays. The state first, then the log line,
            // so whoever reacts to the log already sees the error in the status.
            Failed($"the value of '{_keyPrefix}' at index {response.Index} was rejected: {rejected}");
            ConsulLog.ValueRejected(_logger, Upstream, _keyPrefix, response.Index, rejected);
            return next;
        }

        if (upstream is null && !_options.AllowEmpty)
        {
            // No server where servers were expected: the prefix is missing or empty, or the token may not read it (Consul
            // hides such keys rather than refusing). Never applied silently: the last good list stays (if any), and the
            // status says why there is no change.
            string why = response.FilteredByAcls
                ? "Consul left out what the ACL token may not read (X-Consul-Results-Filtered-By-ACLs)"
                : response.Status == HttpStatusCode.NotFound ? "no key or service found" : "the answer lists no server";
            Failed($"{why} at /{_path.Split('?')[0]}, index {response.Index}: {(_published is null ? "the upstream is not created" : "the last good list stays")}; check the key prefix or service name and that the ACL token may read it (set AllowEmpty to accept an empty list)");
            ConsulLog.EmptyKept(_logger, Upstream, why, _published is null ? "the upstream is not created" : "the last good list stays");
            return next;
        }

        string fingerprint = Fingerprint(upstream);
        if (fingerprint == _published)
        {
            return next;
        }

        _applied = false;
        _source.Publish(upstream);
        if (!attached || _applied)
        {
            _published = fingerprint;
            ConsulLog.Applied(_logger, Upstream, CountServers(upstream), response.Index, response.Agent);
            if (attached)
            {
                WriteDump(upstream);
            }
        }
        else
        {
            Failed($"the list at index {response.Index} was rejected by the registry (see its log)");
            ConsulLog.Rejected(_logger, Upstream, response.Index);
        }

        return next;
    }

    /// <summary>KV per server: level 1, and level 2 for <c>backup</c> servers; <see langword="null"/> when no key is a server.</summary>
    private UpstreamOptions? ReadServerKeys(byte[] body, List<string> warnings)
    {
        var (primary, backup) = UpsyncKvParser.Parse(body, _keyPrefix, warnings);

        // One level: the servers, or only backups (then they are all there is).
        return primary.Count > 0 && backup.Count > 0
            ? WithServers(primary, backup)
            : WithServers(primary.Count > 0 ? primary : backup, null);
    }

    /// <summary>The template with these servers (a second level when given); <see langword="null"/> when there are none.</summary>
    private UpstreamOptions? WithServers(List<ServerOptions> servers, List<ServerOptions>? backup)
    {
        if (servers.Count == 0)
        {
            return null;
        }

        var upstream = _options.Template.Clone();
        if (backup is null)
        {
            foreach (var server in servers)
            {
                upstream.Servers.Add(server);
            }
        }
        else
        {
            upstream.Clusters.Add(Level(servers));
            upstream.Clusters.Add(Level(backup));
        }

        return upstream;
    }

    /// <summary>KV per upstream: the key's JSON over the template; <see langword="null"/> when the key is empty.</summary>
    private UpstreamOptions? ReadUpstreamKey(byte[] body, out string? rejected)
    {
        rejected = null;
        byte[]? value = null;
        using (var document = System.Text.Json.JsonDocument.Parse(body))
        {
            if (document.RootElement.ValueKind != System.Text.Json.JsonValueKind.Array)
            {
                throw new ConsulException("the KV answer is not a JSON array");
            }

            foreach (var entry in document.RootElement.EnumerateArray())
            {
                if (entry.TryGetProperty("Key", out var key) && key.ValueKind == System.Text.Json.JsonValueKind.String && key.GetString() == _keyPrefix)
                {
                    value = entry.TryGetProperty("Value", out var v) && v.ValueKind == System.Text.Json.JsonValueKind.String ? v.GetBytesFromBase64() : null;
                }
            }
        }

        if (value is null || value.AsSpan().Trim(" \t\r\n"u8).IsEmpty)
        {
            return null;
        }

        var read = UpstreamJson.Read(value, _options.Template);
        if (read.Upstream is null)
        {
            rejected = string.Join("; ", read.Errors.Select(e => e.Message).Take(10));
            return null;
        }

        if (CountServers(read.Upstream) == 0)
        {
            rejected = "the upstream has no servers (give servers, or clusters)";
            return null;
        }

        return read.Upstream;
    }

    private static int CountServers(UpstreamOptions? upstream) =>
        upstream is null ? 0
            : upstream.Servers.Count + upstream.Clusters.Sum(c => c.Servers.Count) + upstream.NamedClusters.Values.Sum(c => c.Servers.Count);

    /// <summary>What the status shows of this watch: never the token.</summary>
    private Checkups.Sources.SourceStatus SourceStatus()
    {
        lock (_statusGate)
        {
            var fields = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["kind"] = _options.Kind.ToString(),
                ["last_index"] = _lastIndex.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["reads"] = "/" + _path.Split('?')[0],
            };
            return new Checkups.Sources.SourceStatus(_lastSuccess, _lastError, fields);
        }
    }

    private static string Fingerprint(UpstreamOptions? upstream) =>
        upstream?.ToJson() ?? string.Empty;

    /// <summary>
    /// Consul hides what a token may not read: without a valid token a KV list under default-deny ACLs is a 404, like an
    /// empty prefix. So the first empty answer (and the first after an error) is followed by a look at the token itself;
    /// ACLs on and the token unknown (or none given) is an error, not an empty list.
    /// </summary>
    private async Task CheckAccessAsync(ConsulResponse response, CancellationToken cancellationToken)
    {
        if (_accessChecked || !(response.Status == HttpStatusCode.NotFound || response.Body.AsSpan().Trim(" \t\r\n"u8).SequenceEqual("[]"u8)))
        {
            return;
        }

        var self = await _client.GetAsync("v1/acl/token/self", 0, _options.Wait, cancellationToken, acceptForbidden: true).ConfigureAwait(false);
        if (self.Status == HttpStatusCode.Forbidden)
        {
            throw new ConsulException(string.IsNullOrEmpty(_options.Token)
                ? $"{self.Agent}: permission denied (status 403): ACLs are enabled and no ACL token is set; Consul hides the keys a token cannot read, so the list would look empty"
                : $"{self.Agent}: permission denied (status 403): ACLs are enabled and the ACL token is not known to Consul; Consul hides the keys a token cannot read, so the list would look empty");
        }

        _accessChecked = true;
    }

    /// <summary>The dumped upstream; an unreadable dump is logged and treated as none.</summary>
    private UpstreamOptions? ReadDump()
    {
        try
        {
            return ConsulDump.Read(_options.DumpFile);
        }
        catch (Exception ex) when (ex is ConsulException or IOException or UnauthorizedAccessException)
        {
            ConsulLog.DumpUnreadable(_logger, Upstream, _options.DumpFile!, ex.Message);
            return null;
        }
    }

    /// <summary>Writes the applied upstream to the dump file; a failure is logged and changes nothing else.</summary>
    private void WriteDump(UpstreamOptions? upstream)
    {
        if (_options.DumpFile is not { Length: > 0 } path)
        {
            return;
        }

        try
        {
            ConsulDump.Write(path, upstream);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            ConsulLog.DumpFailed(_logger, Upstream, path, ex.Message);
        }
    }

    private static ClusterOptions Level(List<ServerOptions> servers)
    {
        var cluster = new ClusterOptions();
        foreach (var server in servers)
        {
            cluster.Servers.Add(server);
        }

        return cluster;
    }

    private void OnChanged(object? sender, UpstreamsChangedEventArgs change)
    {
        if (change.Source == _source.Name)
        {
            _applied = true;
        }
    }

    private void Failed(string error)
    {
        lock (_statusGate)
        {
            _lastError = error;
        }
    }

    private TimeSpan Backoff(int failures)
    {
        double ceiling = Math.Min(_options.MaxBackoff.TotalMilliseconds, _options.MinBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(failures - 1, 30)));

        // Jitter: between half and all of the ceiling, so many processes do not come back at the same moment.
        return TimeSpan.FromMilliseconds(ceiling * (0.5 + (Random.Shared.NextDouble() * 0.5)));
    }

    private async Task TakeTokenAsync(CancellationToken cancellationToken)
    {
        double interval = _options.RateLimitInterval.TotalSeconds;
        if (interval <= 0)
        {
            return;
        }

        long now = _time.GetTimestamp();
        _tokens = Math.Min(2, _tokens + ((now - _tokensAt) / (double)_time.TimestampFrequency / interval));
        _tokensAt = now;
        if (_tokens >= 1)
        {
            _tokens -= 1;
            return;
        }

        var wait = TimeSpan.FromSeconds((1 - _tokens) * interval);
        await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
        _tokens = 0;
        _tokensAt = _time.GetTimestamp();
    }
}
