using System;
using System.IO;
using System.Text.Json;
using Checkups.Configuration;

namespace Checkups.Consul;

/// <summary>
/// The dump file: the upstream a watch last applied, as JSON. Written atomically (a temporary file in the same folder,
/// flushed to disk, then renamed over the dump; mode 0600 on Unix), so a crash leaves the old dump or the new one, never
/// half of one (nginx-upsync-module writes its dump in place). It holds the upstream only: no token, no address.
/// </summary>
internal static class ConsulDump
{
    public static void Write(string path, UpstreamOptions? upstream)
    {
        string full = Path.GetFullPath(path);
        if (upstream is null)
        {
            // Consul lists no server and removing them is allowed: no dump to start from.
            File.Delete(full);
            return;
        }

        string folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        string temporary = Path.Combine(folder, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N") + ".tmp");
        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            using (var stream = new FileStream(temporary, create))
            {
                stream.Write(System.Text.Encoding.UTF8.GetBytes(upstream.ToJson()));
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>The dumped upstream, or <see langword="null"/> when there is no dump file (or none is configured).</summary>
    /// <exception cref="ConsulException">The dump exists but cannot be read.</exception>
    public static UpstreamOptions? Read(string? path)
    {
        if (string.IsNullOrEmpty(path) || !File.Exists(path))
        {
            return null;
        }

        try
        {
            return UpstreamOptions.FromJson(File.ReadAllBytes(path));
        }
        catch (JsonException ex)
        {
            throw new ConsulException($"the dump {path} is not an upstream: {ex.Message}", ex);
        }
    }
}
