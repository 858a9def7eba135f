using System.Threading.Tasks;
using Checkups.Health.Probes;
using Checkups.Status;
using Checkups.TestUtils;

namespace Checkups.Tests.Health.Probes;

public sealed class RedisProbeTests
{
    private readonly RedisProbe _probe = new();

    [Fact]
    public async Task Probe_Master_IsOkWithRoleAndVersion()
    {
        await using var master = await RedisServer.StartAsync();

        var result = await Probing.ProbeAsync(_probe, Probing.Upstream("redis", master.Port));

        Assert.Equal(HealthStatus.Ok, result.Status);
        Assert.Equal("master", result.Fields["role"]);
        Assert.Matches(@"^\d+\.\d+\.\d+$", result.Fields["redis_version"]);
        Assert.False(result.Fields.ContainsKey("master_link_status"));
    }

    [Fact]
    public async Task Probe_ReplicaWhoseMasterStops_IsUnstableWithTheMasterFields()
    {
        await using var master = await RedisServer.StartAsync();
        await using var replica = await RedisServer.StartAsync(replicaOf: master.Port);

        var linked = await Probing.ProbeAsync(_probe, Probing.Upstream("redis", replica.Port));
        Assert.Equal(HealthStatus.Ok, linked.Status);
        Assert.Equal("up", linked.Fields["master_link_status"]);

        int masterPort = master.Port;
        await master.DisposeAsync();
        await replica.Process.WaitForOutputAsync("Connection with master lost", System.TimeSpan.FromSeconds(30));

        var status = await Probing.RoundAsync(_probe, Probing.Upstream("redis", replica.Port));

        Assert.Equal(HealthStatus.Unstable, status.Status);
        Assert.Equal("master link status: down", status.Message);
        Assert.Equal("slave", status.Fields["role"]);
        Assert.Equal("127.0.0.1", status.Fields["master_host"]);
        Assert.Equal(masterPort.ToString(System.Globalization.CultureInfo.InvariantCulture), status.Fields["master_port"]);
        Assert.Equal("down", status.Fields["master_link_status"]);
        Assert.True(status.Fields.ContainsKey("master_link_down_since_seconds"));
        Assert.True(status.Fields.ContainsKey("master_last_io_seconds_ago"));
    }

    [Fact]
    public async Task Probe_AuthRequiredButNotConfigured_IsErrWithTheServersMessage()
    {
        await using var server = await RedisServer.StartAsync(password: "s3cret");

        var status = await Probing.RoundAsync(_probe, Probing.Upstream("redis", server.Port));

        Assert.Equal(HealthStatus.Err, status.Status);
        Assert.Equal("NOAUTH Authentication required.", status.Message);
    }

    [Fact]
    public async Task Probe_WrongPassword_IsErrWithTheServersMessage()
    {
        await using var server = await RedisServer.StartAsync(password: "s3cret");

        var status = await Probing.RoundAsync(_probe, Probing.Upstream("redis", server.Port, h => h.Redis.Password = "guess"));

        Assert.Equal(HealthStatus.Err, status.Status);
        Assert.Equal("WRONGPASS invalid username-password pair or user is disabled.", status.Message);
    }

    [Fact]
    public async Task Probe_RightPasswordAndUser_IsOk()
    {
        await using var server = await RedisServer.StartAsync(password: "s3cret");

        Assert.Equal(HealthStatus.Ok, (await Probing.ProbeAsync(_probe, Probing.Upstream("redis", server.Port, h => h.Redis.Password = "s3cret"))).Status);
        Assert.Equal(HealthStatus.Ok, (await Probing.ProbeAsync(_probe, Probing.Upstream("redis", server.Port, h =>
        {
            h.Redis.User = "default";
            h.Redis.Password = "s3cret";
        }))).Status);
    }

    [Fact]
    public void ParseInfo_SkipsSectionsAndMalformedLines()
    {
        var info = RedisProbe.ParseInfo("# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\n\r\ngarbage\r\n:novalue\r\nslave0:ip=1,port=2\r\n");

        Assert.Equal("slave", info["role"]);
        Assert.Equal("127.0.0.1", info["master_host"]);
        Assert.Equal("ip=1,port=2", info["slave0"]);
        Assert.Equal(3, info.Count);
    }
}
