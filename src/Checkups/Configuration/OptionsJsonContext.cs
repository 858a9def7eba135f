using System;
using System.IO.Hashing;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Checkups.Configuration;

/// <summary>
/// Source-generated JSON for options: the one mechanism that copies them (so a property added later is never dropped by
/// a copy written by hand) and that tells whether a reloaded upstream changed. Collections and nested options are
/// populated in place, as the configuration binder does, so get-only properties round-trip too.
/// </summary>
[JsonSourceGenerationOptions(
    PreferredObjectCreationHandling = JsonObjectCreationHandling.Populate,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(UpstreamOptions))]
[JsonSerializable(typeof(ServerOptions))]
[JsonSerializable(typeof(ClusterOptions))]
internal sealed partial class OptionsJsonContext : JsonSerializerContext;

/// <summary>Deep copies of options, through <see cref="OptionsJsonContext"/>.</summary>
internal static class OptionsCopy
{
    public static UpstreamOptions Of(UpstreamOptions options)
    {
        using var buffer = Write(options);
        return JsonSerializer.Deserialize(buffer.WrittenSpan, OptionsJsonContext.Default.UpstreamOptions)!;
    }

    public static ServerOptions? Of(ServerOptions? options) =>
        options is null ? null : JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(options, OptionsJsonContext.Default.ServerOptions), OptionsJsonContext.Default.ServerOptions);

    public static ClusterOptions? Of(ClusterOptions? options) =>
        options is null ? null : JsonSerializer.Deserialize(JsonSerializer.SerializeToUtf8Bytes(options, OptionsJsonContext.Default.ClusterOptions), OptionsJsonContext.Default.ClusterOptions);

    /// <summary>
    /// A text that is equal for two upstreams when every option is equal, and differs otherwise but with a chance of
    /// 2^-128: the 128-bit XxHash of the options' JSON, so an upstream of 10,000 servers keeps 32 characters, not its JSON.
    /// </summary>
    public static string Fingerprint(UpstreamOptions options)
    {
        using var buffer = Write(options);
        return Convert.ToHexString(XxHash128.Hash(buffer.WrittenSpan));
    }

    private static PooledBuffer Write(UpstreamOptions options)
    {
        var buffer = new PooledBuffer();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            JsonSerializer.Serialize(writer, options, OptionsJsonContext.Default.UpstreamOptions);
        }

        return buffer;
    }
}
