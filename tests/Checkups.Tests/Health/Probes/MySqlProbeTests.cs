using System;
using System.Threading.Tasks;
using Checkups.Health.Probes;
using Checkups.Status;
using Checkups.TestUtils;

namespace Checkups.Tests.Health.Probes;

[Collection(MariaDbFixtureDefinition.Name)]
public sealed class MySqlProbeTests(MariaDbServer server)
{
    private readonly MySqlProbe _probe = new();

    [Fact]
    public async Task Probe_Handshake_IsOkWithVersionAndConnectionId()
    {
        var result = await Probing.ProbeAsync(_probe, Probing.Upstream("mysql", server.Port));

        Assert.Equal(HealthStatus.Ok, result.Status);
        Assert.Contains("MariaDB", result.Fields["server_version"], StringComparison.Ordinal);
        Assert.True(long.Parse(result.Fields["connection_id"], System.Globalization.CultureInfo.InvariantCulture) > 0);
    }

    [Fact]
    public async Task Probe_RightCredentials_LogsInAndIsOk()
    {
        var result = await Probing.ProbeAsync(_probe, Probing.Upstream("mysql", server.Port, h =>
        {
            h.MySql.User = MariaDbServer.User;
            h.MySql.Password = MariaDbServer.Password;
        }));

        Assert.Equal(HealthStatus.Ok, result.Status);
    }

    [Fact]
    public async Task Round_WrongPassword_IsErrWithTheServersMessage()
    {
        var status = await Probing.RoundAsync(_probe, Probing.Upstream("mysql", server.Port, h =>
        {
            h.MySql.User = MariaDbServer.User;
            h.MySql.Password = "not-the-password";
        }));

        Assert.Equal(HealthStatus.Err, status.Status);
        Assert.Equal("Access denied for user 'probe'@'127.0.0.1' (using password: YES) (error 1045)", status.Message);
        Assert.Contains("MariaDB", status.Fields["server_version"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Round_UnknownUser_IsErrWithTheServersMessage()
    {
        var status = await Probing.RoundAsync(_probe, Probing.Upstream("mysql", server.Port, h =>
        {
            h.MySql.User = "nobody";
            h.MySql.Password = "x";
        }));

        Assert.Equal(HealthStatus.Err, status.Status);
        Assert.StartsWith("Access denied for user 'nobody'@'127.0.0.1'", status.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Scramble_NoPassword_SendsAnEmptyAuthResponse()
    {
        Assert.Empty(MySqlProbe.Scramble(null, new byte[20]));
        Assert.Empty(MySqlProbe.Scramble(string.Empty, new byte[20]));
        Assert.Equal(20, MySqlProbe.Scramble("secret", new byte[20]).Length);
    }
}
