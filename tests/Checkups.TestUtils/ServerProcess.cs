using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;

namespace Checkups.TestUtils;

/// <summary>
/// A server process a test starts (redis-server, mariadbd…): its output is kept, readiness is awaited on an output line
/// with a bound, and it is stopped by its PID.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly List<(string Text, TaskCompletionSource Seen)> _waiters = new();

    private ServerProcess(Process process) => _process = process;

    public int Pid => _process.Id;

    public string Output => string.Join(Environment.NewLine, _output);

    public static ServerProcess Start(string program, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(FindProgram(program))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var server = new ServerProcess(process);
        process.OutputDataReceived += (_, e) => server.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => server.OnLine(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>Runs a program to completion (bounded) and fails with its output if it does not exit with 0.</summary>
    public static async Task RunAsync(string program, IEnumerable<string> arguments, TimeSpan bound)
    {
        await using var run = Start(program, arguments);
        await run._process.WaitForExitAsync().WaitAsync(bound);
        if (run._process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} exited with {run._process.ExitCode}:{Environment.NewLine}{run.Output}");
        }
    }

    /// <summary>Waits (bounded) until the process has written a line containing <paramref name="text"/>.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan bound)
    {
        TaskCompletionSource seen;
        lock (_waiters)
        {
            if (_output.Any(line => line.Contains(text, StringComparison.Ordinal)))
            {
                return;
            }

            seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((text, seen));
        }

        // A process that exits before saying it is ready (a port taken, a bad configuration) fails at once, not at the bound.
        var exited = _process.WaitForExitAsync();
        Task first;
        try
        {
            first = await Task.WhenAny(seen.Task, exited).WaitAsync(bound);
        }
        catch (TimeoutException)
        {
            throw new ServerNotReadyException($"'{text}' did not appear within {bound}. Output so far:{Environment.NewLine}{Output}");
        }

        // WaitForExitAsync completes only after the redirected output has been read to its end and every line handed to
        // OnLine, so a ready line written just before the exit has already completed `seen`.
        if (first != seen.Task && !seen.Task.IsCompleted)
        {
            throw new ServerNotReadyException($"the process exited (code {_process.ExitCode}) before '{text}' appeared. Output:{Environment.NewLine}{Output}");
        }
    }

    /// <summary>
    /// <paramref name="count"/> distinct ports on 127.0.0.1 that nothing listens on right now: all are held open until
    /// every one is chosen, so no two are the same.
    /// </summary>
    public static int[] FreePorts(int count)
    {
        var sockets = new List<Socket>(count);
        try
        {
            for (int i = 0; i < count; i++)
            {
                var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                sockets.Add(probe);
                probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            }

            return sockets.Select(s => ((IPEndPoint)s.LocalEndPoint!).Port).ToArray();
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
        }
    }

    private bool _disposed;

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }

        _process.Dispose();
    }

    /// <summary>A port on 127.0.0.1 that nothing listens on right now.</summary>
    public static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    public static string NewTempDirectory()
    {
        string path = Path.Combine(Path.GetTempPath(), "checkups-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    private static string FindProgram(string program)
    {
        var folders = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(new[] { "/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin" });
        foreach (string folder in folders)
        {
            string candidate = Path.Combine(folder, program);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"{program} was not found on PATH or in /usr/sbin, /usr/bin. Run ./test.sh, which installs what the tests need.");
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        lock (_waiters)
        {
            _waiters.RemoveAll(w =>
            {
                if (!line.Contains(w.Text, StringComparison.Ordinal))
                {
                    return false;
                }

                w.Seen.TrySetResult();
                return true;
            });
        }
    }
}

/// <summary>A server could not bind the free port it was given: another process took it first. Start again on another.</summary>
public sealed class PortTakenException(Exception inner) : Exception("the free port was taken before the server bound it", inner);

/// <summary>A server process did not report ready: the bound passed, or it exited first. The message holds its output.</summary>
public sealed class ServerNotReadyException(string message) : TimeoutException(message);
