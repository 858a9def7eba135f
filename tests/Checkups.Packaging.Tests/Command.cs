using System;
using System.Diagnostics;
using System.IO;
using System.Threading.Tasks;

namespace Checkups.Packaging.Tests;

/// <summary>Runs commands the way a user would, bounded, and finds the repository.</summary>
internal static class Command
{
    private static readonly TimeSpan CommandBound = TimeSpan.FromMinutes(5);

    public static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Checkups.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Checkups.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Runs a command to its end (bounded; killed by PID past the bound) and returns its output; a non-zero exit fails the test with the output.</summary>
    public static async Task<string> RunAsync(string directory, string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Not the test host's MSBuild node: a command of its own, which ends with it.
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(CommandBound);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        string output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', arguments)} exited {process.ExitCode}:{Environment.NewLine}{output}");
        return output;
    }
}
