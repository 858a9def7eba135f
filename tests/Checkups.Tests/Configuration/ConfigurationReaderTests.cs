using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Checkups.Configuration;
using Microsoft.Extensions.Configuration;

namespace Checkups.Tests.Configuration;

public sealed class ConfigurationReaderTests
{
    private static Dictionary<string, string?> Servers(int count)
    {
        var data = new Dictionary<string, string?>();
        for (int i = 0; i < count; i++)
        {
            string at = "Checkups:Upstreams:api:Servers:" + i.ToString(CultureInfo.InvariantCulture);
            data[at + ":Host"] = "10.0." + (i / 250).ToString(CultureInfo.InvariantCulture) + "." + (i % 250 + 1).ToString(CultureInfo.InvariantCulture);
            data[at + ":Port"] = "8080";
            data[at + ":Weight"] = "3";
        }

        return data;
    }

    private static (CheckupsOptions Options, List<string> Errors) Read(Dictionary<string, string?> data, bool withRoot, params IDictionary<string, string?>[] more)
    {
        var builder = new ConfigurationBuilder().AddInMemoryCollection(data);
        foreach (var layer in more)
        {
            builder.AddInMemoryCollection(layer);
        }

        var root = builder.Build();
        var options = new CheckupsOptions();
        CheckupsConfigurationReader.Bind(root.GetSection("Checkups"), withRoot ? root : null, options);
        return (options, options.Binding!.Errors);
    }

    [Fact]
    public void Bind_LargeServerList_FastAndSlowPathsAgree_OnValuesMetadataAndErrors()
    {
        var data = Servers(2000);
        data["Checkups:Upstreams:api:Servers:17:Metadata:rack"] = "r7";
        data["Checkups:Upstreams:api:Servers:500:MaxFail"] = "3";
        data["Checkups:Upstreams:api:Servers:900:Port"] = "eighty";
        data["Checkups:Upstreams:api:Servers:1200:Zone"] = "z1";

        var fast = Read(data, withRoot: true);
        var slow = Read(data, withRoot: false);

        Assert.Equal(
            new[]
            {
                "Checkups:Upstreams:api:Servers:500:MaxFail is not a known option (did you mean MaxFails?)",
                "Checkups:Upstreams:api:Servers:900:Port must be a whole number (was 'eighty')",
            },
            fast.Errors.Order());
        Assert.Equal(slow.Errors.Order(), fast.Errors.Order());
        Assert.Equal(OptionsCopy.Fingerprint(slow.Options.Upstreams["api"]), OptionsCopy.Fingerprint(fast.Options.Upstreams["api"]));
        var servers = fast.Options.Upstreams["api"].Servers;
        Assert.Equal(2000, servers.Count);
        Assert.Equal("r7", servers[17].Metadata["rack"]);
        Assert.Equal("z1", servers[1200].Zone);
        Assert.Equal(("10.0.0.2", 8080, 3), (servers[1].Host, servers[1].Port, servers[1].Weight));
    }

    [Theory]
    [InlineData("10675199.02:48:05.4775807")]
    [InlineData("-00:00:00.001")]
    public void Bind_NeverWrittenAsTimeSpanMaxValueOrInfinite_IsAcceptedForFailTimeoutAndTryTimeout(string never)
    {
        var data = Servers(2);
        data["Checkups:Upstreams:api:TryTimeout"] = never;
        data["Checkups:Upstreams:api:Servers:0:MaxFails"] = "1";
        data["Checkups:Upstreams:api:Servers:0:FailTimeout"] = never;

        var (options, errors) = Read(data, withRoot: true);
        Assert.Empty(errors);
        using var registry = new Checkups.Registry.UpstreamRegistry(options);

        var upstream = registry.Get("api");
        Assert.Null(upstream.TryTimeout);
        Assert.Equal(System.TimeSpan.MaxValue, upstream.Clusters[0].Servers[0].FailTimeout);
    }

    [Fact]
    public void Bind_ServerValueOverriddenByALaterProvider_TakesTheLaterValue()
    {
        var data = Servers(3);
        var overrides = new Dictionary<string, string?> { ["Checkups:Upstreams:api:Servers:1:Port"] = "9090" };

        var (options, errors) = Read(data, withRoot: true, overrides);

        Assert.Empty(errors);
        Assert.Equal(new[] { 8080, 9090, 8080 }, options.Upstreams["api"].Servers.Select(s => s.Port));
    }

    [Fact]
    public void Bind_ValuesOfEveryKind_AndStrayShapes_AreReportedWithTheirPaths()
    {
        var data = new Dictionary<string, string?>
        {
            ["Checkups:HeartbeatEnabled"] = "yes",
            ["Checkups:HeartbeatInterval"] = "soon",
            ["Checkups:Upstreams:api:Servers:0:Host"] = "127.0.0.1",
            ["Checkups:Upstreams:api:Servers:0:Port"] = "8001",
            ["Checkups:Upstreams:api:Servers:x:Port"] = "8002",
            ["Checkups:Upstreams:api:Hash:BalanceFactor"] = "1,5x",
            ["Checkups:Upstreams:api:Heartbeat:Http:Statuses:500"] = "nope",
            ["Checkups:Upstreams:api:Timeouts"] = "5",
        };

        var (options, errors) = Read(data, withRoot: true);

        Assert.Equal(
            new[]
            {
                "Checkups:HeartbeatEnabled must be true or false (was 'yes')",
                "Checkups:HeartbeatInterval must be a time span such as 00:00:05 (was 'soon')",
                "Checkups:Upstreams:api:Hash:BalanceFactor must be a number (was '1,5x')",
                "Checkups:Upstreams:api:Heartbeat:Http:Statuses:500 must be true or false (was 'nope')",
                "Checkups:Upstreams:api:Servers:x is not a list index (lists are numbered from 0)",
                "Checkups:Upstreams:api:Timeouts must be a section, not a single value (was '5')",
            },
            errors.Order());
        Assert.Single(options.Upstreams["api"].Servers);
    }

    [Fact]
    public void Bind_ThroughAChainedConfiguration_StillSeesMetadataAndUnknownKeys()
    {
        var data = Servers(3);
        data["Checkups:Upstreams:api:Servers:0:Metadata:zone"] = "z1";
        data["Checkups:Upstreams:api:Servers:1:Wieght"] = "2";
        var inner = new ConfigurationBuilder().AddInMemoryCollection(data).Build();
        var root = new ConfigurationBuilder().AddConfiguration(inner).Build();
        var options = new CheckupsOptions();

        CheckupsConfigurationReader.Bind(root.GetSection("Checkups"), root, options);

        Assert.Equal("z1", options.Upstreams["api"].Servers[0].Metadata["zone"]);
        Assert.Equal("Checkups:Upstreams:api:Servers:1:Wieght is not a known option (did you mean Weight?)", Assert.Single(options.Binding!.Errors));
    }
}
