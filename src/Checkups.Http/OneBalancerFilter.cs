using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Checkups.Http;

/// <summary>A client <c>AddCheckups</c> was called for, and the upstream it addresses.</summary>
internal sealed record CheckupsClient(string Name, string Upstream);

/// <summary>
/// Keeps one balancer per client: a client with Checkups' handler loses ServiceDiscovery's (<c>AddServiceDiscovery()</c>
/// on the client, or on every client as Aspire's service defaults write it). Otherwise the outer one would rewrite the
/// address before the inner one sees it: one of them would silently do nothing, or both would each pick a server.
/// Checkups then balances over the servers its sources give; <c>AddCheckups().AddServiceDiscovery(query)</c> feeds them
/// from ServiceDiscovery. Logged once per client (event 107).
/// </summary>
internal sealed class OneBalancerFilter(IEnumerable<CheckupsClient> clients, ILoggerFactory? loggers = null) : IHttpMessageHandlerBuilderFilter
{
    /// <summary>The type name of ServiceDiscovery's handler (internal to Microsoft.Extensions.ServiceDiscovery).</summary>
    internal const string ServiceDiscoveryHandler = "ResolvingHttpDelegatingHandler";

    private readonly Dictionary<string, string> _clients = clients.GroupBy(c => c.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().Upstream, StringComparer.Ordinal);
    private readonly ILogger _logger = loggers?.CreateLogger(HttpLog.Category) ?? NullLogger.Instance;
    private readonly HashSet<string> _logged = new(StringComparer.Ordinal);

    public Action<HttpMessageHandlerBuilder> Configure(Action<HttpMessageHandlerBuilder> next) => builder =>
    {
        next(builder);
        if (builder.Name is not { } name || !_clients.TryGetValue(name, out var upstream))
        {
            return;
        }

        int removed = 0;
        for (int i = builder.AdditionalHandlers.Count - 1; i >= 0; i--)
        {
            if (builder.AdditionalHandlers[i].GetType().Name == ServiceDiscoveryHandler)
            {
                builder.AdditionalHandlers[i].Dispose();
                builder.AdditionalHandlers.RemoveAt(i);
                removed++;
            }
        }

        if (removed > 0)
        {
            bool first;
            lock (_logged)
            {
                first = _logged.Add(name);
            }

            if (first)
            {
                HttpLog.ServiceDiscoveryHandlerRemoved(_logger, name, upstream);
            }
        }
    };
}
