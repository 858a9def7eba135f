using System;
using System.Collections;
using System.Linq;
using System.Reflection;
using Checkups.Configuration;
using Checkups.TestUtils;

namespace Checkups.Tests.Configuration;

public sealed class OptionsCopyTests
{
    /// <summary>Sets every settable option of <paramref name="target"/> (recursively) to a value unlike its default.</summary>
    private static void FillEverything(object target, int seed)
    {
        foreach (var property in target.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            object? value = type == typeof(string) ? "v" + seed
                : type == typeof(int) ? seed + 7
                : type == typeof(bool) ? !(bool)(property.GetValue(target) ?? false)
                : type == typeof(double) ? seed + 1.5
                : type == typeof(TimeSpan) ? TimeSpan.FromSeconds(seed + 3)
                : null;
            if (value is not null && property.SetMethod is { IsPublic: true })
            {
                property.SetValue(target, value);
            }
            else if (property.GetValue(target) is IDictionary dictionary)
            {
                var element = property.PropertyType.GetGenericArguments()[1];
                dictionary["k" + seed] = element == typeof(string) ? "x" : element == typeof(bool) ? true : Activator.CreateInstance(element);
            }
            else if (property.GetValue(target) is IList list)
            {
                var element = property.PropertyType.GetGenericArguments()[0];
                list.Add(element == typeof(string) ? "2xx" : element == typeof(int) ? 503 : Fill(Activator.CreateInstance(element)!, seed + 1));
            }
            else if (property.GetValue(target) is { } nested && type.Namespace == typeof(UpstreamOptions).Namespace)
            {
                FillEverything(nested, seed + 1);
            }
        }
    }

    private static object Fill(object target, int seed)
    {
        FillEverything(target, seed);
        return target;
    }

    [Fact]
    public void Copy_EveryPropertySet_SurvivesTheCopy_AndTheCopyIsDeep()
    {
        var original = new UpstreamOptions();
        FillEverything(original, 1);
        string before = original.ToJson();

        var copy = OptionsCopy.Of(original);
        copy.Servers[0].Metadata["changed"] = "yes";
        copy.Heartbeat.Http.Statuses["500"] = false;

        Assert.Equal(before, original.ToJson());
        Assert.NotSame(original.Servers[0], copy.Servers[0]);
        Assert.Equal(before, OptionsCopy.Of(original).ToJson());
        Assert.Contains("v2", before, StringComparison.Ordinal);
        Assert.Equal(original.Heartbeat.Redis.Password, OptionsCopy.Of(original).Heartbeat.Redis.Password);
    }

    [Fact]
    public void CloneToJsonFromJson_EveryPropertySet_RoundTripsWhole()
    {
        var original = new UpstreamOptions();
        FillEverything(original, 1);
        string json = original.ToJson();

        var clone = original.Clone();
        var read = UpstreamOptions.FromJson(System.Text.Encoding.UTF8.GetBytes(json));

        Assert.NotSame(original.Servers[0], clone.Servers[0]);
        Assert.Equal(json, clone.ToJson());
        Assert.Equal(json, read.ToJson());
        Assert.Throws<System.Text.Json.JsonException>(() => UpstreamOptions.FromJson("null"u8));
        Assert.Throws<System.Text.Json.JsonException>(() => UpstreamOptions.FromJson("{\"Try\": \"many\"}"u8));
    }

    [Fact]
    public void UpdateServers_KeepsEveryOtherOptionOfTheUpstream()
    {
        var upstream = Upstreams.WithServers(Upstreams.Server(8001));
        upstream.Try = 2;
        upstream.TryTimeout = TimeSpan.FromSeconds(4);
        upstream.FailureStatuses.Add(500);
        upstream.Heartbeat.Http.Path = "/health";
        upstream.Heartbeat.Redis.Password = "secret";
        upstream.Fastest.FailurePenalty = TimeSpan.FromSeconds(2);
        using var registry = Upstreams.Registry("api", upstream);
        string expected = registry.Get("api").GetOptions().ToJson().Replace("8001", "8002", StringComparison.Ordinal);

        registry.UpdateServers("api", new[] { Upstreams.Server(8002) });

        Assert.Equal(expected, registry.Get("api").GetOptions().ToJson());
    }

    [Fact]
    public void Fingerprint_EqualOptionsAlike_AnyChangeDiffers_AndItStaysShort()
    {
        var upstream = Upstreams.WithServers(Upstreams.Server(8001), Upstreams.Server(8002));
        var changed = OptionsCopy.Of(upstream);
        changed.Servers[1].Metadata["rack"] = "r2";

        Assert.Equal(OptionsCopy.Fingerprint(upstream), OptionsCopy.Fingerprint(OptionsCopy.Of(upstream)));
        Assert.NotEqual(OptionsCopy.Fingerprint(upstream), OptionsCopy.Fingerprint(changed));
        Assert.Equal(32, OptionsCopy.Fingerprint(upstream).Length);
    }
}
