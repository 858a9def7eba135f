using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Threading.Tasks;

namespace Checkups.TestUtils;

/// <summary>A private redis-server on 127.0.0.1 and a free port, with its own data directory; stopped by PID.</summary>
public sealed class RedisServer : IAsyncDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly string _directory;

    private RedisServer(ServerProcess process, int port, string directory)
    {
        Process = process;
        Port = port;
        _directory = directory;
    }

    public ServerProcess Process { get; }

    public int Port { get; }

    /// <summary>Starts a server; a free port taken by another process before the server bound it is retried (3 tries at most).</summary>
    public static async Task<RedisServer> StartAsync(string? password = null, int? replicaOf = null)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync(password, replicaOf);
            }
            catch (PortTakenException) when (attempt < 3)
            {
            }
        }
    }

    private static async Task<RedisServer> StartOnceAsync(string? password, int? replicaOf)
    {
        int port = ServerProcess.FreePort();
        string directory = ServerProcess.NewTempDirectory();
        var arguments = new List<string>
        {
            "--port", port.ToString(CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1",
            "--save", string.Empty,
            "--appendonly", "no",
            "--daemonize", "no",
            "--dir", directory,
            "--repl-timeout", "5",
        };
        if (password is not null)
        {
            arguments.AddRange(new[] { "--requirepass", password });
        }

        if (replicaOf is { } master)
        {
            arguments.AddRange(new[] { "--replicaof", "127.0.0.1", master.ToString(CultureInfo.InvariantCulture) });
        }

        var process = ServerProcess.Start("redis-server", arguments);
        var server = new RedisServer(process, port, directory);
        try
        {
            await process.WaitForOutputAsync("Ready to accept connections", Bound);
            if (replicaOf is not null)
            {
                await process.WaitForOutputAsync("MASTER <-> REPLICA sync: Finished with success", Bound);
            }
        }
        catch (Exception ex)
        {
            bool taken = process.Output.Contains("Address already in use", StringComparison.Ordinal);
            await server.DisposeAsync();
            if (taken)
            {
                throw new PortTakenException(ex);
            }

            throw;
        }

        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await Process.DisposeAsync();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
