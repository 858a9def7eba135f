using System;
using System.Collections.Generic;
using System.Text.Json.Serialization;

namespace Checkups.Status;

/// <summary>The reported state of one server (lua <c>get_status</c> entry).</summary>
public sealed class ServerStatus
{
    internal ServerStatus(
        string server,
        string status,
        string? message,
        DateTimeOffset lastModified,
        int failCount,
        int weight,
        int maxFails,
        TimeSpan failTimeout,
        int inFlight,
        IReadOnlyDictionary<string, string> fields,
        double? latencyMs = null)
    {
        LatencyMs = latencyMs;
        Server = server;
        Status = status;
        Message = message;
        LastModified = lastModified;
        FailCount = failCount;
        Weight = weight;
        MaxFails = maxFails;
        FailTimeout = failTimeout.TotalSeconds;
        InFlight = inFlight;
        Fields = fields;
        foreach (var (key, value) in fields)
        {
            // Probe fields sit beside the standard ones, as in lua-resty-checkups; a clash with a standard name is prefixed.
            JsonFields[Reserved.Contains(key) ? "probe_" + key : key] = value;
        }
    }

    private static readonly HashSet<string> Reserved = new(StringComparer.Ordinal)
    {
        "server", "status", "msg", "lastmodified", "fail_num", "weight", "max_fails", "fail_timeout", "in_flight", "latency_ms",
    };

    /// <summary>Gets the server key, <c>upstream:host:port</c>.</summary>
    [JsonPropertyName("server")]
    public string Server { get; }

    /// <summary>Gets the status name (see <see cref="HealthStatus"/>).</summary>
    [JsonPropertyName("status")]
    public string Status { get; }

    /// <summary>Gets why the server is not <c>ok</c>; <see langword="null"/> when it is.</summary>
    [JsonPropertyName("msg")]
    public string? Message { get; }

    /// <summary>Gets when the status last changed (UTC).</summary>
    [JsonPropertyName("lastmodified")]
    public DateTimeOffset LastModified { get; }

    /// <summary>Gets the current number of failures counted against the server.</summary>
    [JsonPropertyName("fail_num")]
    public int FailCount { get; }

    /// <summary>Gets the configured weight.</summary>
    [JsonPropertyName("weight")]
    public int Weight { get; }

    /// <summary>Gets the configured max_fails.</summary>
    [JsonPropertyName("max_fails")]
    public int MaxFails { get; }

    /// <summary>Gets the configured fail_timeout in seconds.</summary>
    [JsonPropertyName("fail_timeout")]
    public double FailTimeout { get; }

    /// <summary>Gets the number of calls to the server in flight when the status was read (leases not yet completed).</summary>
    [JsonPropertyName("in_flight")]
    public int InFlight { get; }

    /// <summary>
    /// Gets the recent latency of successful calls in milliseconds (an average over about the last eight), or
    /// <see langword="null"/> when no call reported a duration: leases completed with an elapsed time and Checkups.Http
    /// report one; <c>ExecuteAsync</c> reports one in the modes that time calls (fastest, least requests, p2c, bounded).
    /// </summary>
    [JsonPropertyName("latency_ms")]
    public double? LatencyMs { get; }

    /// <summary>Gets the last probe's extra fields (for Redis: role, master_host, master_link_status, redis_version…).</summary>
    [JsonIgnore]
    public IReadOnlyDictionary<string, string> Fields { get; }

    /// <summary>Gets the probe fields as written to JSON, beside the standard ones.</summary>
    [JsonExtensionData]
    [JsonInclude]
    internal Dictionary<string, object> JsonFields { get; } = new(StringComparer.Ordinal);
}
