using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Checkups.Status;

/// <summary>
/// A snapshot of every upstream's servers and of the checker itself (lua <c>get_status</c>).
/// <see cref="ToJson"/> writes lua-resty-checkups' shape: <c>{"cls:&lt;name&gt;": [[server, …], …], "last_check_time",
/// "checkup_timer_alive", "start_time", "conf_hash", "shd_config_version", "config_version", "upstreams": {name:
/// {"owner", "mode", "version"}}, "sources": {…}}</c>.
/// </summary>
[JsonConverter(typeof(CheckupsStatusJsonConverter))]
public sealed class CheckupsStatus
{
    internal CheckupsStatus(
        IReadOnlyDictionary<string, UpstreamStatus> upstreams,
        DateTimeOffset? lastCheckTime,
        bool heartbeatAlive,
        DateTimeOffset startTime,
        long configVersion,
        IReadOnlyDictionary<string, SourceState>? sources = null)
    {
        Sources = sources ?? new Dictionary<string, SourceState>();
        Upstreams = upstreams;
        LastCheckTime = lastCheckTime;
        HeartbeatAlive = heartbeatAlive;
        StartTime = startTime;
        ConfigVersion = configVersion;
    }

    /// <summary>Gets the upstreams by name.</summary>
    public IReadOnlyDictionary<string, UpstreamStatus> Upstreams { get; }

    /// <summary>
    /// Gets every attached source (a Consul watch…) and writer (the admin API…) by name: what it owns and, when it reports
    /// one, how its feed is doing.
    /// </summary>
    public IReadOnlyDictionary<string, SourceState> Sources { get; }

    /// <summary>Gets when the active health check last finished a round; <see langword="null"/> before the first.</summary>
    public DateTimeOffset? LastCheckTime { get; }

    /// <summary>Gets whether the active health check loop is running (JSON <c>checkup_timer_alive</c>).</summary>
    public bool HeartbeatAlive { get; }

    /// <summary>Gets when the registry started.</summary>
    public DateTimeOffset StartTime { get; }

    /// <summary>
    /// Gets the registry's configuration version, bumped by every change (JSON <c>config_version</c>, and lua's
    /// <c>shd_config_version</c>).
    /// </summary>
    public long ConfigVersion { get; }

    /// <summary>
    /// Gets a hash of the configuration in force: the global settings and every upstream's name, owner and options
    /// (JSON <c>conf_hash</c>, as lua-resty-checkups names it). Two processes with the same configuration show the same
    /// 16 hexadecimal digits; it is not a version and says nothing about order.
    /// </summary>
    public string ConfigHash { get; internal init; } = string.Empty;

    /// <summary>Serialises the snapshot in lua-resty-checkups' JSON shape.</summary>
    /// <param name="indented">Whether to indent the output.</param>
    /// <returns>The JSON text.</returns>
    public string ToJson(bool indented = false)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented }))
        {
            CheckupsStatusJsonConverter.WriteStatus(writer, this);
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}

/// <summary>One attached source in the status: the upstreams it owns and the state it reports.</summary>
public sealed class SourceState
{
    internal SourceState(string name, IReadOnlyList<string> upstreams, Sources.SourceStatus? status)
    {
        Name = name;
        Upstreams = upstreams;
        Status = status;
    }

    /// <summary>Gets the source's name (the owner shown on its upstreams).</summary>
    public string Name { get; }

    /// <summary>Gets the names of the upstreams the source owns now.</summary>
    public IReadOnlyList<string> Upstreams { get; }

    /// <summary>Gets what the source reports of its feed, or <see langword="null"/> when it does not implement <see cref="Sources.IUpstreamSourceStatus"/>.</summary>
    public Sources.SourceStatus? Status { get; }
}
