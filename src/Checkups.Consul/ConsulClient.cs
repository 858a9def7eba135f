using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

namespace Checkups.Consul;

/// <summary>
/// One answer of a Consul HTTP endpoint: the status, the <c>X-Consul-Index</c>, the body, the agent, the index the query
/// was sent with (0 when another agent than the last one answered), and whether Consul says it left out what the ACL
/// token may not read (<c>X-Consul-Results-Filtered-By-ACLs</c>, from Consul 1.11 on).
/// </summary>
internal readonly record struct ConsulResponse(HttpStatusCode Status, ulong Index, byte[] Body, string Agent, ulong Sent = 0, bool FilteredByAcls = false);

/// <summary>
/// Consul's HTTP API with blocking queries, over several agent addresses: a request goes to the agent that answered last,
/// and on a transport error or a 5xx to the next one, each address once per request. The ACL token travels in the
/// <c>X-Consul-Token</c> header, never in a URL, so it cannot reach a log line or an exception message.
/// </summary>
internal sealed class ConsulClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly IReadOnlyList<Uri> _agents;
    private readonly ConsulOptions _options;
    private readonly TimeProvider _time;
    private int _current;

    public ConsulClient(ConsulOptions options, TimeProvider time, HttpMessageHandler? handler = null)
    {
        _options = options;
        _time = time;
        _agents = options.AgentUris();
        _http = new HttpClient(handler ?? new SocketsHttpHandler { UseProxy = false, ConnectTimeout = options.ConnectTimeout })
        {
            // Each request has its own timeout, above the blocking wait.
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>The client timeout of a blocking query: above wait + wait/16 (Consul's jitter), plus a margin.</summary>
    public static TimeSpan ClientTimeout(TimeSpan wait, TimeSpan margin) => wait + (wait / 16) + margin;

    /// <summary>
    /// GETs <paramref name="path"/> (e.g. <c>/v1/kv/upstreams/api/?recurse</c>) as a blocking query from
    /// <paramref name="index"/> (0: answer at once). An index is one agent's: when the agent that answered last cannot
    /// answer, the next one is asked from 0, so it answers at once with its own state instead of waiting out the whole
    /// blocking wait for an index it may never reach (its Raft log can be behind, or another cluster's).
    /// </summary>
    /// <exception cref="ConsulException">Every agent failed, or the answer is not usable (status, size, index).</exception>
    public async Task<ConsulResponse> GetAsync(string path, ulong index, TimeSpan wait, CancellationToken cancellationToken, bool acceptForbidden = false)
    {
        List<string>? failures = null;
        int start = Volatile.Read(ref _current);
        for (int i = 0; i < _agents.Count; i++)
        {
            int which = (start + i) % _agents.Count;
            var agent = _agents[which];
            try
            {
                var response = await GetFromAsync(agent, path, i == 0 ? index : 0, wait, acceptForbidden, cancellationToken).ConfigureAwait(false);
                Volatile.Write(ref _current, which);
                return response;
            }
            catch (ConsulAgentException ex)
            {
                // This agent cannot answer (unreachable, timed out, 5xx): the next one may.
                (failures ??= new List<string>()).Add(ex.Message);
            }
        }

        throw new ConsulException(failures is null ? "no Consul agent address" : string.Join("; ", failures));
    }

    public void Dispose() => _http.Dispose();

    private async Task<ConsulResponse> GetFromAsync(Uri agent, string path, ulong index, TimeSpan wait, bool acceptForbidden, CancellationToken cancellationToken)
    {
        var uri = new Uri(agent, Query(path, index, wait));
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (!string.IsNullOrEmpty(_options.Token))
        {
            request.Headers.TryAddWithoutValidation("X-Consul-Token", _options.Token);
        }

        using var timeout = new CancellationTokenSource(ClientTimeout(index == 0 ? TimeSpan.Zero : wait, _options.TimeoutMargin), _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ConsulAgentException($"{agent.Authority}: no answer within the client timeout");
        }
        catch (HttpRequestException ex)
        {
            throw new ConsulAgentException($"{agent.Authority}: {ex.Message}");
        }

        using (response)
        {
            int status = (int)response.StatusCode;
            if (status >= 500)
            {
                throw new ConsulAgentException($"{agent.Authority}: status {status}");
            }

            ulong consulIndex = 0;
            if (response.Headers.TryGetValues("X-Consul-Index", out var values))
            {
                foreach (string value in values)
                {
                    if (!ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out consulIndex))
                    {
                        throw new ConsulException($"{agent.Authority}: X-Consul-Index '{Printable(value)}' is not a number");
                    }
                }
            }

            byte[] body;
            try
            {
                body = await ReadCappedAsync(response, _options.MaxResponseBytes, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ConsulAgentException($"{agent.Authority}: the body did not arrive within the client timeout");
            }
            catch (IOException ex)
            {
                throw new ConsulAgentException($"{agent.Authority}: {ex.Message}");
            }

            if (status is 401 or 403 && acceptForbidden)
            {
                return new ConsulResponse(response.StatusCode, consulIndex, body, agent.Authority, index);
            }

            if (status == 403)
            {
                throw new ConsulException($"{agent.Authority}: permission denied (status 403): the ACL token is missing or has no read access to {path.Split('?')[0]}");
            }

            if (status != 200 && status != 404)
            {
                throw new ConsulException($"{agent.Authority}: status {status} for {path.Split('?')[0]}");
            }

            bool filtered = response.Headers.TryGetValues("X-Consul-Results-Filtered-By-ACLs", out var flags)
                && flags.Any(flag => string.Equals(flag, "true", StringComparison.OrdinalIgnoreCase));
            return new ConsulResponse(response.StatusCode, consulIndex, body, agent.Authority, index, filtered);
        }
    }

    private string Query(string path, ulong index, TimeSpan wait)
    {
        var query = new System.Text.StringBuilder(path);
        char separator = path.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        void Add(string part)
        {
            query.Append(separator).Append(part);
            separator = '&';
        }

        if (index > 0)
        {
            Add(string.Create(CultureInfo.InvariantCulture, $"index={index}"));
            Add(string.Create(CultureInfo.InvariantCulture, $"wait={(long)Math.Ceiling(wait.TotalMilliseconds)}ms"));
        }

        if (!string.IsNullOrEmpty(_options.Datacenter))
        {
            Add("dc=" + Uri.EscapeDataString(_options.Datacenter));
        }

        if (_options.Stale)
        {
            Add("stale");
        }

        return query.ToString();
    }

    private static async Task<byte[]> ReadCappedAsync(HttpResponseMessage response, int cap, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength is { } declared && declared > cap)
        {
            throw new ConsulException($"the response body ({declared} bytes) is over MaxResponseBytes ({cap})");
        }

        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            while (true)
            {
                int read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return buffer.ToArray();
                }

                if (buffer.Length + read > cap)
                {
                    throw new ConsulException($"the response body is over MaxResponseBytes ({cap})");
                }

                buffer.Write(chunk, 0, read);
            }
        }
    }

    private static string Printable(string value) => value.Length > 40 ? value[..40] + "…" : value;
}

/// <summary>One agent could not answer; the client tries the next address.</summary>
internal sealed class ConsulAgentException(string message) : Exception(message);
