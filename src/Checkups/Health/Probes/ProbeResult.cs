using System;
using System.Collections.Frozen;
using System.Collections.Generic;
using Checkups.Status;

namespace Checkups.Health.Probes;

/// <summary>A probe's verdict on one server: a status, why, and fields worth reporting (versions, roles…).</summary>
public sealed class ProbeResult
{
    private static readonly IReadOnlyDictionary<string, string> NoFields = FrozenDictionary<string, string>.Empty;

    private ProbeResult(string status, string? message, IReadOnlyDictionary<string, string>? fields)
    {
        Status = status;
        Message = message;
        Fields = fields ?? NoFields;
    }

    /// <summary>Gets the status: <see cref="HealthStatus.Ok"/>, <see cref="HealthStatus.Unstable"/> or <see cref="HealthStatus.Err"/>.</summary>
    public string Status { get; }

    /// <summary>Gets why the server is not ok; <see langword="null"/> when it is.</summary>
    public string? Message { get; }

    /// <summary>Gets extra fields for the status report (for Redis: role, master_host, redis_version…).</summary>
    public IReadOnlyDictionary<string, string> Fields { get; }

    /// <summary>Gets whether the probe failed (counts towards sensibility).</summary>
    public bool Failed => Status == HealthStatus.Err;

    /// <summary>The server is healthy.</summary>
    /// <param name="fields">Fields for the status report.</param>
    /// <returns>The verdict.</returns>
    public static ProbeResult Ok(IReadOnlyDictionary<string, string>? fields = null) => new(HealthStatus.Ok, null, fields);

    /// <summary>The server answers but is degraded (for example a replica whose master link is down): it stays selectable.</summary>
    /// <param name="message">Why.</param>
    /// <param name="fields">Fields for the status report.</param>
    /// <returns>The verdict.</returns>
    public static ProbeResult Unstable(string message, IReadOnlyDictionary<string, string>? fields = null) =>
        new(HealthStatus.Unstable, message ?? throw new ArgumentNullException(nameof(message)), fields);

    /// <summary>The probe failed.</summary>
    /// <param name="message">Why (an error the server sent, a refused connection…).</param>
    /// <param name="fields">Fields for the status report.</param>
    /// <returns>The verdict.</returns>
    public static ProbeResult Failure(string message, IReadOnlyDictionary<string, string>? fields = null) =>
        new(HealthStatus.Err, message ?? throw new ArgumentNullException(nameof(message)), fields);
}
