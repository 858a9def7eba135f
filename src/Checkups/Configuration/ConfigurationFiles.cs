using System;
using System.Collections.Generic;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Primitives;

namespace Checkups.Configuration;

/// <summary>
/// Tells whether every reloadable configuration file of the root Checkups binds from was read whole on its last load.
/// </summary>
/// <remarks>
/// A file provider that cannot parse its file on a reload (emptied by <c>&gt;</c>, cut mid-write) empties its data and
/// throws on the file watcher's thread, where nobody observes the exception; and the reload that follows it would show
/// Checkups a configuration with that file's values missing. So each such source gets a load-exception handler that
/// records the failure and marks the exception handled, and its file provider is wrapped to learn when a load begins
/// (a load starts by asking for the file), which clears the record. A reload that arrives while any file's last load
/// failed is rejected whole. The host's own handler, when it set one, runs first and keeps its say on ignoring.
/// </remarks>
internal sealed class ConfigurationFiles
{
    private readonly List<WatchedFile> _files = new();

    private ConfigurationFiles()
    {
    }

    /// <summary>Watches every reload-on-change file of <paramref name="root"/>; none when <paramref name="root"/> is null.</summary>
    public static ConfigurationFiles Watch(IConfigurationRoot? root)
    {
        var files = new ConfigurationFiles();
        if (root is null)
        {
            return files;
        }

        foreach (var provider in root.Providers)
        {
            if (provider is FileConfigurationProvider { Source: { ReloadOnChange: true, FileProvider: { } fileProvider } source }
                && fileProvider is not LoadObservingFileProvider)
            {
                string path = source.Path ?? string.Empty;
                var file = new WatchedFile(fileProvider.GetFileInfo(path).PhysicalPath ?? path, source.OnLoadException);
                source.FileProvider = new LoadObservingFileProvider(fileProvider, file);
                source.OnLoadException = file.OnLoadException;
                files._files.Add(file);
            }
        }

        return files;
    }

    /// <summary>Why the configuration cannot be trusted now (each file whose last load failed, and its reason), or null.</summary>
    public string? Unreadable()
    {
        StringBuilder? text = null;
        foreach (var file in _files)
        {
            if (file.Failure is { } failure)
            {
                text = text is null ? new StringBuilder() : text.Append("; ");
                text.Append("the configuration file '").Append(file.Path).Append("' could not be read: ").Append(failure);
            }
        }

        return text?.ToString();
    }

    private sealed class WatchedFile(string path, Action<FileLoadExceptionContext>? hostHandler)
    {
        private volatile string? _failure;

        public string Path { get; } = path;

        public string? Failure => _failure;

        public void OnLoadStarted() => _failure = null;

        public void OnLoadException(FileLoadExceptionContext context)
        {
            // The provider wraps the parser's error (InvalidDataException around a FormatException around a JsonException):
            // the innermost message says what is wrong and where.
            var reason = context.Exception;
            while (reason.InnerException is not null)
            {
                reason = reason.InnerException;
            }

            _failure = reason.Message;
            if (hostHandler is not null)
            {
                hostHandler(context);
                return;
            }

            // Thrown here, the exception would end the file watcher's callback unobserved; Checkups reports it instead.
            context.Ignore = true;
        }
    }

    /// <summary>Passes everything to the host's file provider; a request for the file marks the start of a load.</summary>
    private sealed class LoadObservingFileProvider(IFileProvider inner, WatchedFile file) : IFileProvider
    {
        public IFileInfo GetFileInfo(string subpath)
        {
            file.OnLoadStarted();
            return inner.GetFileInfo(subpath);
        }

        public IDirectoryContents GetDirectoryContents(string subpath) => inner.GetDirectoryContents(subpath);

        public IChangeToken Watch(string filter) => inner.Watch(filter);
    }
}
