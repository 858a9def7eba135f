using System;
using System.Linq;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Registry;
using Checkups.Tests.TestUtilities;

namespace Checkups.Consul.Tests;

/// <summary>An agent whose ACLs deny by default: the watch reads with its token, and fails clearly without one.</summary>
public sealed class AclTests : IClassFixture<ConsulAclAgent>
{
    private readonly ConsulAclAgent _agent;

    public AclTests(ConsulAclAgent agent) => _agent = agent;

    private ConsulOptions Options(string? token)
    {
        var options = new ConsulOptions { Upstream = "secured", Wait = TimeSpan.FromSeconds(30), Token = token, StrongDependency = true };
        options.Addresses.Add(_agent.Address);
        return options;
    }

    [Fact]
    public async Task WithTheToken_TheListIsRead()
    {
        await _agent.PutAsync("upstreams/secured/127.0.0.1:8001", "");
        using var registry = new UpstreamRegistry(new CheckupsOptions());
        await using var watch = new ConsulWatch(registry, Options(_agent.MasterToken));

        await watch.StartAsync();

        Assert.Equal(8001, registry.SelectPeer("secured").Port);
    }

    [Fact]
    public async Task WithoutAToken_StartFailsNamingTheAcl_AndNoTokenAppearsInErrors()
    {
        await _agent.PutAsync("upstreams/secured/127.0.0.1:8001", "");
        using var registry = new UpstreamRegistry(new CheckupsOptions());
        await using var without = new ConsulWatch(registry, Options(null));
        var logs = new CapturingLoggerProvider();
        await using var wrong = new ConsulWatch(registry, Options("00000000-0000-4000-8000-000000000001"), logger: logs.CreateLogger(ConsulLog.Category));

        var error = await Assert.ThrowsAsync<ConsulException>(() => without.StartAsync());
        var wrongError = await Assert.ThrowsAsync<ConsulException>(() => wrong.StartAsync());

        Assert.Contains("403", error.Message);
        Assert.Contains("ACL token", error.Message);
        Assert.DoesNotContain("00000000-0000-4000-8000-000000000001", wrongError.Message);
        Assert.DoesNotContain("00000000-0000-4000-8000-000000000001", wrong.LastError);
        Assert.All(logs.Entries, entry => Assert.DoesNotContain("00000000-0000-4000-8000-000000000001", entry.Message));
        Assert.False(registry.GetStatus().Upstreams.ContainsKey("secured"));
    }
}
