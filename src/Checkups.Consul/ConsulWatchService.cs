using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Registry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Checkups.Consul;

/// <summary>One watch the host runs, as registered by <c>AddConsul</c>.</summary>
internal sealed record ConsulWatchRegistration(ConsulOptions Options);

/// <summary>
/// The host's Consul watches: each starts with the host (a strong dependency that cannot reach Consul fails the start)
/// and stops with it.
/// </summary>
internal sealed class ConsulWatchService : IHostedService, IAsyncDisposable
{
    private readonly UpstreamRegistry _registry;
    private readonly IReadOnlyList<ConsulWatchRegistration> _registrations;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly List<ConsulWatch> _watches = new();

    public ConsulWatchService(UpstreamRegistry registry, IEnumerable<ConsulWatchRegistration> registrations, TimeProvider time, ILoggerFactory? loggers = null)
    {
        _registry = registry;
        _registrations = registrations.ToList();
        _time = time;
        _logger = loggers?.CreateLogger(ConsulLog.Category) ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
    }

    /// <summary>Gets the running watches.</summary>
    public IReadOnlyList<ConsulWatch> Watches => _watches;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var registration in _registrations)
        {
            var watch = new ConsulWatch(_registry, registration.Options, _time, _logger);
            try
            {
                await watch.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await watch.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            _watches.Add(watch);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var watch in _watches)
        {
            await watch.DisposeAsync().ConfigureAwait(false);
        }

        _watches.Clear();
    }

    public ValueTask DisposeAsync() => new(StopAsync(CancellationToken.None));
}
