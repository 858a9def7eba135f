using System;
using System.IO;
using System.Reflection;
using System.Threading.Tasks;

namespace Checkups.Packaging.Tests;

/// <summary>The README's first command: the demo runs its script against real local backends and keeps its promises.</summary>
public sealed class DemoTests
{
    [Fact]
    public async Task Demo_RunsItsScript_WithNoFailedRequest()
    {
        string root = Command.RepositoryRoot();
        string configuration = typeof(DemoTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        string demo = Path.Combine(root, "samples", "Checkups.Demo", "bin", configuration, "net10.0", "Checkups.Demo.dll");

        // Output redirected: the demo writes plain lines instead of its live table, and exits by itself (non-zero if a promise broke).
        string output = await Command.RunAsync(root, "dotnet", demo);

        Assert.Contains("ok   no request failed", output, StringComparison.Ordinal);
        Assert.Contains("ok   phase 3: stopped bravo gets nothing", output, StringComparison.Ordinal);
        Assert.Contains("\"cls:demo\"", output, StringComparison.Ordinal);
        Assert.Contains("Demo finished:", output, StringComparison.Ordinal);
    }
}
