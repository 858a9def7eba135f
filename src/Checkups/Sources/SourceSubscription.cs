using System;
using Checkups.Diagnostics;
using Checkups.Registry;
using Microsoft.Extensions.Logging;

namespace Checkups.Sources;

/// <summary>Follows one <see cref="IUpstreamSource"/>: applies each snapshot whole as the source's change, then waits for the next.</summary>
internal sealed class SourceSubscription : IDisposable
{
    /// <summary>Snapshots applied in a row while the source keeps handing out tokens that have already fired.</summary>
    private const int MaxRounds = 100;

    private readonly UpstreamStore _store;
    private readonly IUpstreamSource _source;
    private readonly ILogger _logger;
    private readonly Action<SourceSubscription>? _onDisposed;
    private readonly object _gate = new();
    private IDisposable? _registration;
    private bool _disposed;
    private bool _applying;
    private bool _again;

    public SourceSubscription(UpstreamStore store, IUpstreamSource source, ILogger logger, Action<SourceSubscription>? onDisposed = null)
    {
        _store = store;
        _source = source;
        _logger = logger;
        _onDisposed = onDisposed;
        Apply(initial: true);
    }

    public string Name => _source.Name;

    public IUpstreamSource Source => _source;

    public void Dispose()
    {
        IDisposable? registration;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            registration = _registration;
            _registration = null;
        }

        // Outside the lock: disposing waits for a callback running on another thread, which may be waiting for the lock.
        registration?.Dispose();
        _onDisposed?.Invoke(this);
    }

    private void Apply(bool initial)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            if (_applying)
            {
                // A token that had already fired calls back at once, from inside the registration below: go round again there.
                _again = true;
                return;
            }

            _applying = true;
            try
            {
                for (int round = 0; round == 0 || (_again && round < MaxRounds); round++)
                {
                    _again = false;
                    _registration = ApplyOnce(initial && round == 0);
                }
            }
            finally
            {
                _applying = false;
            }
        }
    }

    private IDisposable? ApplyOnce(bool initial)
    {
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

        // Reached after an applied or a rejected snapshot (a first one that fails throws to AddSource, which keeps nothing).
        // A source that could not even give a snapshot has no token to wait on: it is logged above, and no longer followed.
        return snapshot?.ChangeToken.RegisterChangeCallback(static state => ((SourceSubscription)state!).Apply(initial: false), this);
    }
}
