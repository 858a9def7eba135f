using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net.Http;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Configuration;

namespace Checkups.Health.Probes;

/// <summary>
/// The <c>http</c> probe: one request (method, path with query, optional Host header) on a fresh connection, no proxy,
/// no redirects; the response's status code decides (see <see cref="HttpProbeOptions"/>). The body is not read.
/// </summary>
/// <remarks>
/// Each probe has a handler of its own, disposed when the probe ends. A shared handler would keep connections the probe
/// no longer wants: one whose connect finished after the probe was cancelled goes into the shared pool and stays open
/// against a silent server. Disposing the probe's handler closes every connection it made, whatever the server does.
/// </remarks>
internal sealed class HttpProbe : IHealthProbe
{
    public string Type => ProbeTypes.Http;

    public async ValueTask<ProbeResult> ProbeAsync(ProbeContext context, CancellationToken cancellationToken)
    {
        var options = context.Options.Http;
        using var request = new HttpRequestMessage(new HttpMethod(options.Method), new Uri("http://" + context.Server.Key + options.Path));
        request.Headers.ConnectionClose = true;
        if (options.Host is { } host)
        {
            request.Headers.Host = host;
        }

        // The probe opens its socket itself, on its own token, and closes it when it ends: a connect that finishes after the
        // probe was cancelled cannot leave a connection behind in a pool, whatever the server does.
        Socket? socket = null;
        using var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            PooledConnectionLifetime = TimeSpan.Zero,
            ConnectCallback = async (_, connecting) =>
            {
                using var both = CancellationTokenSource.CreateLinkedTokenSource(connecting, cancellationToken);
                var connected = await ProbeConnection.ConnectAsync(context.Server, both.Token).ConfigureAwait(false);
                Volatile.Write(ref socket, connected);
                if (cancellationToken.IsCancellationRequested)
                {
                    // The probe ended while this connect finished (its finally may have seen no socket yet).
                    connected.Dispose();
                    cancellationToken.ThrowIfCancellationRequested();
                }

                return new NetworkStream(connected, ownsSocket: true);
            },
        };
        using var invoker = new HttpMessageInvoker(handler, disposeHandler: false);
        try
        {
            // The handler answers once the headers are in; the body is never read.
            using var response = await invoker.SendAsync(request, cancellationToken).ConfigureAwait(false);
            return Verdict((int)response.StatusCode, options);
        }
        finally
        {
            Volatile.Read(ref socket)?.Dispose();
        }
    }

    private static ProbeResult Verdict(int code, HttpProbeOptions options)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal) { ["status_code"] = code.ToString(CultureInfo.InvariantCulture) };
        return IsAlive(code, options)
            ? ProbeResult.Ok(fields)
            : ProbeResult.Failure(string.Create(CultureInfo.InvariantCulture, $"bad status code: {code}"), fields);
    }

    /// <summary>
    /// A code listed in <see cref="HttpProbeOptions.Statuses"/> has its verdict; otherwise it must match
    /// <see cref="HttpProbeOptions.AliveStatuses"/> when any are given; otherwise it is alive if lua-resty-checkups' map lists
    /// anything at all, or if it is 2xx or 3xx.
    /// </summary>
    internal static bool IsAlive(int code, HttpProbeOptions options)
    {
        if (options.Statuses.TryGetValue(code.ToString(CultureInfo.InvariantCulture), out bool verdict))
        {
            return verdict;
        }

        if (options.AliveStatuses.Count > 0)
        {
            foreach (string alive in options.AliveStatuses)
            {
                if (Matches(code, alive))
                {
                    return true;
                }
            }

            return false;
        }

        return options.Statuses.Count > 0 || code is >= 200 and < 400;
    }

    private static bool Matches(int code, string pattern) =>
        pattern.Length == 3 && (pattern.EndsWith("xx", StringComparison.OrdinalIgnoreCase)
            ? pattern[0] - '0' == code / 100
            : int.TryParse(pattern, NumberStyles.None, CultureInfo.InvariantCulture, out int exact) && exact == code);
}
