using System;
using System.IO;
using System.Reflection;
using System.Threading.Tasks;

namespace Checkups.Packaging.Tests;

/// <summary>The README's gateway sample: its smoke run sends requests through every route and changes an upstream live, on free loopback ports.</summary>
public sealed class GatewayTests
{
    [Fact]
    public async Task Gateway_SmokeRun_RoutesEveryRequestAndTakesTheLiveChange()
    {
        string root = Command.RepositoryRoot();
        string configuration = typeof(GatewayTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        string gateway = Path.Combine(root, "samples", "Checkups.Gateway", "bin", configuration, "net10.0", "Checkups.Gateway.dll");

        // Its own backends and both of its ports are free 127.0.0.1 ports; it stops them all and exits (non-zero on any failure).
        string output = await Command.RunAsync(root, "dotnet", gateway, "--smoke");

        Assert.Contains("ok   Host img.local -> imgprocess", output, StringComparison.Ordinal);
        Assert.Contains("ok   /sessions/ hashed by X-User", output, StringComparison.Ordinal);
        Assert.Contains("ok   the admin API is not served on the gateway port (404)", output, StringComparison.Ordinal);
        Assert.Contains("ok   no token: 401", output, StringComparison.Ordinal);
        Assert.Contains("ok   PUT a new server list for api (the spare backend) through the admin API: 200", output, StringComparison.Ordinal);
        Assert.Contains("ok   /api/ now goes to the spare backend", output, StringComparison.Ordinal);
        Assert.Matches(@"Gateway finished: \d+ requests, 0 failed", output);
        Assert.DoesNotContain("FAIL", output, StringComparison.Ordinal);
    }
}
