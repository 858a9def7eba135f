using System;
using System.Collections.Generic;
using System.Linq;
using Checkups.Configuration;
using Checkups.Diagnostics;
using Checkups.Registry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Checkups.Sources;

/// <summary>
/// The configuration source: <see cref="CheckupsOptions"/> as the options pipeline makes them (configuration binding,
/// <c>Configure</c>, <c>PostConfigure</c>), so every reload carries what code added too. A reload is all or nothing,
/// global settings included; a reload in which the bound section vanished (file deleted, emptied or truncated) keeps the
/// last good configuration and logs a warning. Removing every upstream takes an explicit empty <c>Upstreams</c> section.
/// </summary>
internal sealed class OptionsSource : IDisposable
{
    private readonly UpstreamStore _store;
    private readonly ILogger _logger;
    private readonly IDisposable? _subscription;
    private readonly ConfigurationFiles? _files;
    private readonly object _gate = new();
    private bool _sectionSeen;
    private bool _upstreamsSeen;
    private string? _lastUnreadable;

    public OptionsSource(UpstreamStore store, IOptionsMonitor<CheckupsOptions> monitor, CheckupsOptions applied, ILogger logger, ConfigurationFiles? files = null)
    {
        _store = store;
        _logger = logger;
        _files = files;
        Remember(applied.Binding);
        _subscription = monitor.OnChange((options, name) =>
        {
            if (string.IsNullOrEmpty(name) || name == Options.DefaultName)
            {
                OnReload(options);
            }
        });

        // A reload between building the registry and subscribing here would otherwise be lost.
        var current = monitor.CurrentValue;
        if (!ReferenceEquals(current, applied))
        {
            OnReload(current);
        }
    }

    /// <summary>Applies <paramref name="options"/> whole as <paramref name="owner"/>'s upstreams and the global settings; throws when anything is invalid.</summary>
    public static void Apply(UpstreamStore store, CheckupsOptions options, string owner)
    {
        string prefix = options.Binding is { Path.Length: > 0 } binding ? binding.Path : CheckupsOptions.SectionName;
        if (options.Binding is { Errors.Count: > 0 } failed)
        {
            // Values that did not convert and unknown keys: with the rest of the problems, in one exception.
            // A value that did not convert is left at its default, so the validator would report the same path again.
            var errors = failed.Errors.ToList();
            var paths = errors.Select(e => e[..(e.IndexOf(' ', StringComparison.Ordinal) + 1)]).ToList();
            errors.AddRange(CheckupsOptionsValidator.Validate(options, prefix, store.ProbeTypes, store.Modes).Where(e => !paths.Exists(p => e.StartsWith(p, StringComparison.Ordinal))));
            throw new CheckupsValidationException(errors);
        }

        var upstreams = new Dictionary<string, UpstreamOptions>(options.Upstreams, StringComparer.OrdinalIgnoreCase);
        store.ReplaceOwned(owner, upstreams, prefix, CheckupsSettings.From(options));
    }

    public void Dispose() => _subscription?.Dispose();

    private void OnReload(CheckupsOptions options)
    {
        // Reloads arrive on the configuration's thread; one at a time keeps "last seen" consistent with what was applied.
        lock (_gate)
        {
            try
            {
                // A file that could not be read leaves its values out of this reload: nothing of it is applied. The same
                // failure seen again (a file watcher reports one write more than once) is not logged again.
                if (_files?.Unreadable() is { } unreadable)
                {
                    if (!string.Equals(unreadable, _lastUnreadable, StringComparison.Ordinal))
                    {
                        _lastUnreadable = unreadable;
                        Log.ConfigurationReloadRejected(_logger, unreadable, null);
                    }

                    return;
                }

                _lastUnreadable = null;
                var binding = options.Binding;
                if (binding is not null && ((_sectionSeen && !binding.SectionPresent) || (_upstreamsSeen && !binding.UpstreamsPresent)))
                {
                    Log.ConfigurationSectionMissing(_logger, binding.Path.Length == 0 ? "(root)" : binding.Path);
                    return;
                }

                Apply(_store, options, UpstreamSourceNames.Configuration);
                Remember(binding);
            }
#pragma warning disable CA1031 // A reload runs on the configuration's thread: whatever fails is logged, and nothing changes.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                string reason = ex is CheckupsValidationException validation ? string.Join("; ", validation.Errors) : ex.Message;
                Log.ConfigurationReloadRejected(_logger, reason, ex is CheckupsException ? null : ex);
            }
        }
    }

    private void Remember(ConfigurationBinding? binding)
    {
        if (binding is not null)
        {
            _sectionSeen = binding.SectionPresent;
            _upstreamsSeen = binding.UpstreamsPresent;
        }
    }
}
