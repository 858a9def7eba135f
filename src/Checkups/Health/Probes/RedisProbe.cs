using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Configuration;

namespace Checkups.Health.Probes;

/// <summary>
/// The <c>redis</c> probe: optional AUTH, then PING must answer PONG, then INFO replication and INFO server. The role,
/// master and version fields go into the status; a replica whose master link is down is <c>unstable</c>. Errors the
/// server sends (<c>-NOAUTH</c>, <c>-WRONGPASS</c>, <c>-LOADING</c>…) fail the probe with the server's own message.
/// </summary>
internal sealed class RedisProbe : IHealthProbe
{
    private static readonly string[] ReplicationFields =
    {
        "role", "master_host", "master_port", "master_link_status", "master_link_down_since_seconds", "master_last_io_seconds_ago",
    };

    public string Type => ProbeTypes.Redis;

    public async ValueTask<ProbeResult> ProbeAsync(ProbeContext context, CancellationToken cancellationToken)
    {
        var socket = await ProbeConnection.ConnectAsync(context.Server, cancellationToken).ConfigureAwait(false);
        using var redis = new RespConnection(socket);
        var credentials = context.Options.Redis;
        if (credentials.Password is { } password)
        {
            var auth = credentials.User is { } user
                ? await redis.CommandAsync(cancellationToken, "AUTH", user, password).ConfigureAwait(false)
                : await redis.CommandAsync(cancellationToken, "AUTH", password).ConfigureAwait(false);
            if (auth.Kind == RespConnection.ReplyKind.Error)
            {
                return ProbeResult.Failure(auth.Text);
            }
        }

        var ping = await redis.CommandAsync(cancellationToken, "PING").ConfigureAwait(false);
        if (ping.Kind == RespConnection.ReplyKind.Error)
        {
            return ProbeResult.Failure(ping.Text);
        }

        if (ping.Kind != RespConnection.ReplyKind.Simple || !string.Equals(ping.Text, "PONG", StringComparison.Ordinal))
        {
            return ProbeResult.Failure("PING answered '" + ping.Text + "' instead of PONG");
        }

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        var replication = await redis.CommandAsync(cancellationToken, "INFO", "replication").ConfigureAwait(false);
        if (replication.Kind == RespConnection.ReplyKind.Error)
        {
            return ProbeResult.Failure(replication.Text);
        }

        var info = ParseInfo(replication.Text);
        foreach (string name in ReplicationFields)
        {
            if (info.TryGetValue(name, out string? value))
            {
                fields[name] = value;
            }
        }

        var server = await redis.CommandAsync(cancellationToken, "INFO", "server").ConfigureAwait(false);
        if (server.Kind == RespConnection.ReplyKind.Bulk && ParseInfo(server.Text).TryGetValue("redis_version", out string? version))
        {
            fields["redis_version"] = version;
        }

        bool replica = info.TryGetValue("role", out string? role) && role is "slave" or "replica";
        return replica && info.TryGetValue("master_link_status", out string? link) && link == "down"
            ? ProbeResult.Unstable("master link status: down", fields)
            : ProbeResult.Ok(fields);
    }

    /// <summary>Reads INFO's "name:value" lines, skipping "# Section" headers and anything malformed.</summary>
    internal static Dictionary<string, string> ParseInfo(string text)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (line.Length == 0 || line[0] == '#' || colon <= 0)
            {
                continue;
            }

            values[line[..colon]] = line[(colon + 1)..];
        }

        return values;
    }
}
