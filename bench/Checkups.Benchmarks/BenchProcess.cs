using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;

namespace Checkups.Benchmarks;

/// <summary>A server of the bench in a process of its own (this program with a mode argument), which writes its port first.</summary>
internal static class BenchProcess
{
    /// <summary>Starts this program in <paramref name="mode"/>; with <paramref name="serverGc"/>, under the server garbage collector, as an ASP.NET Core application runs by default.</summary>
    public static Process Start(string mode, bool serverGc, out int port)
    {
        string self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(typeof(BenchProcess).Assembly.Location);
        }

        start.ArgumentList.Add(mode);
        if (serverGc)
        {
            start.Environment["DOTNET_gcServer"] = "1";
        }

        var process = Process.Start(start)!;
        string? line = process.StandardOutput.ReadLine();
        if (!int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out port))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            process.Dispose();
            throw new InvalidOperationException($"the {mode} process wrote '{line}' instead of its port");
        }

        return process;
    }
}
