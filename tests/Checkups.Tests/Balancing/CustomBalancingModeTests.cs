using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Balancing;
using Checkups.Configuration;
using Checkups.DependencyInjection;
using Checkups.Execution;
using Checkups.Model;
using Checkups.Registry;
using Checkups.TestUtils;
using Microsoft.Extensions.DependencyInjection;

namespace Checkups.Tests.Balancing;

// docs/custom-balancing.md: begin
/// <summary>Always the first selectable server in configured order: an active/standby pair, say.</summary>
public sealed class FirstAvailableMode : BalancingMode
{
    public FirstAvailableMode()
        : base("first_available")
    {
    }

    public override ServerSelector CreateSelector(Cluster cluster, UpstreamOptions options, TimeProvider time) =>
        new FirstAvailable(cluster.Servers.ToArray());

    private sealed class FirstAvailable(Server[] servers) : ServerSelector
    {
        public override Server? Pick(ref SelectionContext context)
        {
            foreach (var server in servers)
            {
                if (server.IsSelectable && !context.IsTried(server))
                {
                    return server;
                }
            }

            return null;   // none left here: the call moves on to the next cluster
        }
    }
}
// docs/custom-balancing.md: end

/// <summary>A mode of one's own, registered by name through DI, serves picks, retries and keys as the built-in ones do.</summary>
public sealed class CustomBalancingModeTests
{
    private static ServiceProvider Services(string mode, Action<ICheckupsBuilder> register)
    {
        var services = new ServiceCollection();
        var checkups = services.AddCheckups(options =>
        {
            var upstream = Upstreams.WithServers(Upstreams.Server(8001, maxFails: 1), Upstreams.Server(8002, maxFails: 1), Upstreams.Server(8003, maxFails: 1));
            upstream.Mode = mode;
            options.Upstreams["api"] = upstream;
        });
        register(checkups);
        return services.BuildServiceProvider();
    }

    [Fact]
    public async Task AddBalancingMode_ByName_ServesPicksRetriesAndFollowsHealth()
    {
        using var provider = Services("First_Available", checkups => checkups.AddBalancingMode<FirstAvailableMode>());
        var registry = provider.GetRequiredService<UpstreamRegistry>();

        Assert.Equal("first_available", registry.Get("api").Mode);
        Assert.All(Enumerable.Range(0, 5), _ => Assert.Equal(8001, registry.SelectPeer("api").Port));

        // The try loop skips what this call tried, in a mode it does not know.
        var tried = new System.Collections.Generic.List<int>();
        int answered = await registry.ExecuteAsync("api", (server, _) =>
        {
            tried.Add(server.Port);
            return server.Port == 8001 ? throw new IOException("refused") : ValueTask.FromResult(server.Port);
        });
        Assert.Equal(new[] { 8001, 8002 }, tried);
        Assert.Equal(8002, answered);

        // 8001 failed once with max_fails 1: passive health has it out, and the mode follows.
        Assert.Equal(8002, registry.SelectPeer("api").Port);
    }

    [Fact]
    public void AModeThatUsesKeys_SeesTheKeysXxHash64_ComputedOncePerCall()
    {
        using var provider = Services("modulo", checkups => checkups.AddBalancingMode(new ModuloMode()));
        var registry = provider.GetRequiredService<UpstreamRegistry>();

        foreach (string key in new[] { "user-1", "user-2", "session-42" })
        {
            ulong hash = System.IO.Hashing.XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(key));
            Assert.Equal(8001 + (int)(hash % 3), registry.SelectPeer("api", key).Port);
        }

        Assert.Equal(8001, registry.SelectPeer("api").Port);
    }

    [Fact]
    public void UnknownMode_IsRefusedNamingTheModesKnown_AndABuiltInNameCannotBeTaken()
    {
        using var without = Services("first_available", _ => { });
        var unknown = Assert.Throws<CheckupsValidationException>(() => without.GetRequiredService<UpstreamRegistry>());
        Assert.Contains("Mode must be one of wrr, hash,", unknown.Message, StringComparison.Ordinal);

        using var clash = Services("wrr", checkups => checkups.AddBalancingMode(new NamedMode("WRR")));
        var error = Assert.Throws<ArgumentException>(() => clash.GetRequiredService<UpstreamRegistry>());
        Assert.Contains("has the name of a built-in mode", error.Message, StringComparison.Ordinal);

        using var listed = Services("nope", checkups => checkups.AddBalancingMode<FirstAvailableMode>());
        Assert.Contains("first_available", Assert.Throws<CheckupsValidationException>(() => listed.GetRequiredService<UpstreamRegistry>()).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new NamedMode("two words"));
    }

    [Fact]
    public void Docs_ExampleIsTheModeThisTestRegisters()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Checkups.sln")))
        {
            directory = directory.Parent;
        }

        string root = directory!.FullName;
        string docs = File.ReadAllText(Path.Combine(root, "docs", "custom-balancing.md"));
        int start = docs.IndexOf("```csharp", StringComparison.Ordinal) + "```csharp".Length;
        string example = docs[start..docs.IndexOf("```", start, StringComparison.Ordinal)];
        string source = File.ReadAllText(Path.Combine(root, "tests", "Checkups.Tests", "Balancing", "CustomBalancingModeTests.cs"));
        const string Begin = "// docs/custom-balancing.md: begin";
        int from = source.IndexOf(Begin, StringComparison.Ordinal) + Begin.Length;
        string code = source[from..source.IndexOf("// docs/custom-balancing.md: end", from, StringComparison.Ordinal)];

        static string[] Lines(string text) => text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        Assert.Equal(Lines(code), Lines(example));
    }

    [Fact]
    public async Task ExecuteAsync_FirstPickFindsNone_ServerBackAtOnce_NoServerErrorAndNothingLeftInFlight()
    {
        // A server selectable again the instant after the first pick found none (an err that ran out, a heartbeat that
        // revived it): the call reports the pick it made, and leases nothing it would not use.
        var mode = new NoneThenFirstMode();
        using var provider = Services("none_then_first", checkups => checkups.AddBalancingMode(mode));
        var registry = provider.GetRequiredService<UpstreamRegistry>();

        var error = await Assert.ThrowsAsync<NoServerAvailableException>(async () =>
            await registry.ExecuteAsync("api", (server, _) => new ValueTask<int>(server.Port)));

        Assert.Equal(CallStopReason.NoSelectableServer, error.Reason);
        Assert.Equal(1, mode.Picks);
        Assert.All(registry.GetStatus().Upstreams["api"].Clusters[0].Servers, server => Assert.Equal(0, server.InFlight));
        Assert.Equal(8001, await registry.ExecuteAsync("api", (server, _) => new ValueTask<int>(server.Port)));
    }

    /// <summary>No server at its first pick, the first server at every pick after it.</summary>
    private sealed class NoneThenFirstMode() : BalancingMode("none_then_first")
    {
        private int _picks;

        public int Picks => Volatile.Read(ref _picks);

        public override ServerSelector CreateSelector(Cluster cluster, UpstreamOptions options, TimeProvider time) => new NoneThenFirst(this, cluster.Servers[0]);

        private sealed class NoneThenFirst(NoneThenFirstMode mode, Server first) : ServerSelector
        {
            public override Server? Pick(ref SelectionContext context) => Interlocked.Increment(ref mode._picks) == 1 ? null : first;
        }
    }

    private sealed class ModuloMode() : BalancingMode("modulo")
    {
        public override bool UsesHashKey => true;

        public override ServerSelector CreateSelector(Cluster cluster, UpstreamOptions options, TimeProvider time) => new Modulo(cluster.Servers.ToArray());

        private sealed class Modulo(Server[] servers) : ServerSelector
        {
            public override Server? Pick(ref SelectionContext context) =>
                context.HasKey ? servers[(int)(context.KeyHash % (ulong)servers.Length)] : servers[0];
        }
    }

    private sealed class NamedMode(string name) : BalancingMode(name)
    {
        public override ServerSelector CreateSelector(Cluster cluster, UpstreamOptions options, TimeProvider time) => throw new NotSupportedException();
    }
}
