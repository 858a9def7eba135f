using System;
using System.Threading.Tasks;
using Checkups.TestUtils;

namespace Checkups.Tests.TestUtilities;

/// <summary>The fixture every server test starts its processes with.</summary>
public sealed class ServerProcessTests
{
    [Fact]
    public async Task WaitForOutput_ProcessExitsFirst_FailsAtOnceWithItsOutput()
    {
        await using var process = ServerProcess.Start("sh", new[] { "-c", "echo starting; echo 'port taken' >&2; exit 3" });

        var error = await Assert.ThrowsAsync<ServerNotReadyException>(() => process.WaitForOutputAsync("ready", TimeSpan.FromMinutes(5)));

        Assert.Contains("exited (code 3)", error.Message, StringComparison.Ordinal);
        Assert.Contains("port taken", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WaitForOutput_ReadyLineWrittenJustBeforeExit_IsSeen()
    {
        await using var process = ServerProcess.Start("sh", new[] { "-c", "echo ready; exit 0" });

        await process.WaitForOutputAsync("ready", TimeSpan.FromMinutes(1));
    }

    [Fact]
    public void FreePorts_AreDistinct()
    {
        var ports = ServerProcess.FreePorts(16);

        Assert.Equal(ports.Length, new System.Collections.Generic.HashSet<int>(ports).Count);
    }
}
