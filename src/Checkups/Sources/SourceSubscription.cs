using System;
using Checkups.Diagnostics;
using Checkups.Registry;
using Microsoft.Extensions.Logging;

namespace Checkups.Sources;

/// <summary>Follows one <see cref="IUpstreamSource"/>: applies each snapshot whole as the source's change, then waits for the next.</summary>
internal sealed class SourceSubscription : IDisposable
{
    private readonly UpstreamStore _store;
    private readonly IUpstreamSource _source;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private IDisposable? _registration;
    private bool _disposed;

    public SourceSubscription(UpstreamStore store, IUpstreamSource source, ILogger logger)
    {
        _store = store;
        _source = source;
        _logger = logger;
        Apply(initial: true);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _registration?.Dispose();
            _registration = null;
        }
    }

    private void Apply(bool initial)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            UpstreamSourceSnapshot? snapshot = null;
            try
            {
                snapshot = _source.GetSnapshot();
                _store.ReplaceOwned(_source.Name, snapshot.Upstreams, _source.Name, settings: null);
            }
#pragma warning disable CA1031 // A later snapshot arrives on the source's thread: a bad one is logged and changes nothing.
            catch (Exception ex) when (!initial)
#pragma warning restore CA1031
            {
                string reason = ex is Configuration.CheckupsValidationException validation ? string.Join("; ", validation.Errors) : ex.Message;
                Log.SourceChangeRejected(_logger, _source.Name, reason, ex is CheckupsException ? null : ex);
            }

            // Reached after an applied or a rejected snapshot (a first one that fails throws to AddSource, which keeps
            // nothing). A source that could not even give a snapshot has no token to wait on: it is logged above.
            _registration?.Dispose();
            _registration = snapshot?.ChangeToken.RegisterChangeCallback(static state => ((SourceSubscription)state!).Apply(initial: false), this);
        }
    }
}
