using System;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Checkups.Status;

/// <summary>Writes <see cref="CheckupsStatus"/> in lua-resty-checkups' shape; the top level has one key per upstream, so it is written by hand.</summary>
internal sealed class CheckupsStatusJsonConverter : JsonConverter<CheckupsStatus>
{
    public override CheckupsStatus Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("The status snapshot is written by Checkups and is not read back.");

    public override void Write(Utf8JsonWriter writer, CheckupsStatus value, JsonSerializerOptions options) => WriteStatus(writer, value);

    internal static void WriteStatus(Utf8JsonWriter writer, CheckupsStatus status)
    {
        writer.WriteStartObject();
        foreach (var (name, upstream) in status.Upstreams)
        {
            // As lua writes it: levels are an array of levels, named clusters an object keyed by cluster name.
            writer.WritePropertyName(string.Concat("cls:", name));
            if (upstream.HasNamedClusters)
            {
                writer.WriteStartObject();
            }
            else
            {
                writer.WriteStartArray();
            }

            foreach (var cluster in upstream.Clusters)
            {
                if (upstream.HasNamedClusters)
                {
                    writer.WritePropertyName(cluster.Name);
                }

                writer.WriteStartArray();
                foreach (var server in cluster.Servers)
                {
                    JsonSerializer.Serialize(writer, server, StatusJsonContext.Default.ServerStatus);
                }

                writer.WriteEndArray();
            }

            if (upstream.HasNamedClusters)
            {
                writer.WriteEndObject();
            }
            else
            {
                writer.WriteEndArray();
            }
        }

        if (status.LastCheckTime is { } lastCheck)
        {
            writer.WriteString("last_check_time", lastCheck);
        }
        else
        {
            writer.WriteNull("last_check_time");
        }

        writer.WriteBoolean("checkup_timer_alive", status.HeartbeatAlive);
        writer.WriteString("start_time", status.StartTime);
        writer.WriteString("conf_hash", status.ConfigHash);

        // lua's version of its shared configuration; the .NET name is kept beside it for readers of earlier releases.
        writer.WriteNumber("shd_config_version", status.ConfigVersion);
        writer.WriteNumber("config_version", status.ConfigVersion);
        writer.WriteStartObject("upstreams");
        foreach (var (name, upstream) in status.Upstreams)
        {
            writer.WriteStartObject(name);
            writer.WriteString("owner", upstream.Owner);
            writer.WriteString("mode", upstream.Mode);
            writer.WriteNumber("version", upstream.Version);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        writer.WriteStartObject("sources");
        foreach (var (name, source) in status.Sources)
        {
            writer.WriteStartObject(name);
            writer.WriteStartArray("upstreams");
            foreach (string upstream in source.Upstreams)
            {
                writer.WriteStringValue(upstream);
            }

            writer.WriteEndArray();
            if (source.Status is { } state)
            {
                if (state.LastSuccess is { } success)
                {
                    writer.WriteString("last_success", success);
                }
                else
                {
                    writer.WriteNull("last_success");
                }

                writer.WriteString("last_error", state.LastError);
                foreach (var (key, value) in state.Fields)
                {
                    if (key is not ("upstreams" or "last_success" or "last_error"))
                    {
                        writer.WriteString(key, value);
                    }
                }
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }
}

/// <summary>Source-generated serialisation of the per-server entries.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(ServerStatus))]
[JsonSerializable(typeof(string))]
internal sealed partial class StatusJsonContext : JsonSerializerContext;
