using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Configuration;

namespace Checkups.Health.Probes;

/// <summary>
/// The <c>http</c> probe: one request (method, path with query, optional Host header) on a fresh connection, no proxy,
/// no redirects; the response's status code decides (see <see cref="HttpProbeOptions"/>). The body is not read.
/// </summary>
internal sealed class HttpProbe : IHealthProbe, IDisposable
{
    private readonly HttpClient _client = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        UseCookies = false,
    })
    {
        Timeout = System.Threading.Timeout.InfiniteTimeSpan,
    };

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

        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        int code = (int)response.StatusCode;
        var fields = new Dictionary<string, string>(StringComparer.Ordinal) { ["status_code"] = code.ToString(CultureInfo.InvariantCulture) };
        return IsAlive(code, options)
            ? ProbeResult.Ok(fields)
            : ProbeResult.Failure(string.Create(CultureInfo.InvariantCulture, $"bad status code: {code}"), fields);
    }

    public void Dispose() => _client.Dispose();

    /// <summary>
    /// A code listed in <see cref="HttpProbeOptions.Statuses"/> has its verdict; otherwise it must match
    /// <see cref="HttpProbeOptions.AliveStatuses"/> when any are given; otherwise it is alive if the seed's map lists
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
