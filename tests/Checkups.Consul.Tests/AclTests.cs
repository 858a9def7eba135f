using System;
using System.Linq;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Registry;
using Checkups.TestUtils;
using Microsoft.Extensions.Logging.Testing;

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
        var logs = new FakeLogCollector();
        await using var wrong = new ConsulWatch(registry, Options("00000000-0000-4000-8000-000000000001"), logger: new FakeLogger(logs, ConsulLog.Category));

        var error = await Assert.ThrowsAsync<ConsulException>(() => without.StartAsync());
        var wrongError = await Assert.ThrowsAsync<ConsulException>(() => wrong.StartAsync());

        Assert.Contains("403", error.Message);
        Assert.Contains("ACL token", error.Message);
        Assert.DoesNotContain("00000000-0000-4000-8000-000000000001", wrongError.Message);
        Assert.DoesNotContain("00000000-0000-4000-8000-000000000001", wrong.LastError);
        Assert.All(logs.GetSnapshot(), entry => Assert.DoesNotContain("00000000-0000-4000-8000-000000000001", entry.Message));
        Assert.False(registry.GetStatus().Upstreams.ContainsKey("secured"));
    }

    [Fact]
    public async Task TokenThatMayNotRead_IsAWarningAndALastError_AndTheLastGoodListStays()
    {
        // A valid token whose policy reads other keys only: Consul hides upstreams/ from it, so its list looks empty.
        string otherOnly = await _agent.CreateTokenAsync("other-only", "key_prefix \"other/\" { policy = \"read\" }");
        await _agent.PutAsync("upstreams/hidden/127.0.0.1:8001", "");
        using var registry = new UpstreamRegistry(new CheckupsOptions());
        var options = Options(otherOnly);
        options.Upstream = "hidden";
        options.StrongDependency = false;
        var logs = new AwaitableLogCollector();
        await using var blind = new ConsulWatch(registry, options, logger: new FakeLogger(logs, ConsulLog.Category));

        await blind.StartAsync();

        // Nothing is applied, and it is said: a warning, and the status's last error.
        Assert.False(registry.TryGet("hidden", out _));
        Assert.Contains(logs.GetSnapshot(), e => e.Id.Id == ConsulLog.EventIds.EmptyKept && e.Level == Microsoft.Extensions.Logging.LogLevel.Warning);
        Assert.DoesNotContain(logs.GetSnapshot(), e => e.Id.Id == ConsulLog.EventIds.Applied);
        Assert.Contains("ACL token may read it", blind.LastError, StringComparison.Ordinal);
        Assert.Contains("hidden", registry.GetStatus().Sources["consul:hidden"].Status!.LastError, StringComparison.Ordinal);
        Assert.DoesNotContain(otherOnly, blind.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokenLosesReadAccess_TheNextAnswerLooksEmpty_TheLastGoodListStaysWithALastError()
    {
        string token = await _agent.CreateTokenAsync("revocable", "key_prefix \"upstreams/revoked/\" { policy = \"read\" }");
        await _agent.PutAsync("upstreams/revoked/127.0.0.1:8001", "");
        using var registry = new UpstreamRegistry(new CheckupsOptions());
        var options = Options(token);
        options.Upstream = "revoked";

        // Short blocking waits: a query holds the token's rights as they were when it began, so the first query to begin
        // after the policy change is the one whose answer comes back empty (at the end of its wait).
        options.Wait = TimeSpan.FromSeconds(1);
        var logs = new AwaitableLogCollector();
        await using var watch = new ConsulWatch(registry, options, logger: new FakeLogger(logs, ConsulLog.Category));
        await watch.StartAsync();
        Assert.Equal(8001, registry.SelectPeer("revoked").Port);

        await _agent.UpdatePolicyAsync("revocable", "key_prefix \"other/\" { policy = \"read\" }");
        await _agent.WaitUntilHiddenAsync(token, "upstreams/revoked/");
        await logs.WhenLoggedAsync(ConsulLog.EventIds.EmptyKept);

        Assert.Equal(new[] { 8001 }, registry.Get("revoked").Clusters[0].Servers.Select(s => s.Port));
        Assert.Contains("the last good list stays", watch.LastError, StringComparison.Ordinal);
    }
}
