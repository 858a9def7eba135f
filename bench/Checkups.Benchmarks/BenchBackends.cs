using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading.Tasks;

namespace Checkups.Benchmarks;

/// <summary>
/// Three loopback Kestrel backends answering "ok" in a process of their own (<c>serve-backends</c>), so that the
/// allocations counted are the client's alone; <see cref="StopAsync"/> and <see cref="StartAsync"/> stop one and start it
/// again on its port.
/// </summary>
internal sealed class BenchBackends : IDisposable
{
    private readonly Process _process;

    private BenchBackends(Process process, int[] ports) => (_process, Ports) = (process, ports);

    /// <summary>Gets the backends' ports on 127.0.0.1.</summary>
    public int[] Ports { get; }

    public static BenchBackends Start()
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            start.ArgumentList.Add(typeof(BenchBackends).Assembly.Location);
        }

        start.ArgumentList.Add("serve-backends");
        var process = Process.Start(start)!;
        string? line = process.StandardOutput.ReadLine();
        try
        {
            return new BenchBackends(process, line!.Split(',').Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray());
        }
        catch (Exception ex) when (ex is FormatException or NullReferenceException)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            process.Dispose();
            throw new InvalidOperationException($"serve-backends wrote '{line}' instead of its ports", ex);
        }
    }

    /// <summary>Stops backend <paramref name="which"/>; returns once it no longer listens.</summary>
    public Task StopAsync(int which) => CommandAsync("stop", which);

    /// <summary>Starts backend <paramref name="which"/> again on its port; returns once it listens.</summary>
    public Task StartAsync(int which) => CommandAsync("start", which);

    private async Task CommandAsync(string command, int which)
    {
        await _process.StandardInput.WriteLineAsync($"{command} {which.ToString(CultureInfo.InvariantCulture)}");
        await _process.StandardOutput.ReadLineAsync();
    }

    public void Dispose()
    {
        // Closing stdin ends the process; killed by its PID when it does not end by itself.
        _process.StandardInput.Close();
        if (!_process.WaitForExit(10_000))
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }
}
