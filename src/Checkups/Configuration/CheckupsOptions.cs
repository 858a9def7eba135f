using System;
using System.Collections.Generic;

namespace Checkups.Configuration;

/// <summary>
/// Root options of Checkups, bindable from the <c>Checkups</c> configuration section.
/// </summary>
public sealed class CheckupsOptions
{
    /// <summary>The configuration section these options are usually bound from.</summary>
    public const string SectionName = "Checkups";

    /// <summary>Gets or sets how often the active health check probes every server.</summary>
    /// <value>Default 5 seconds.</value>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets whether upstreams are actively probed unless they say otherwise.</summary>
    /// <value>Default <see langword="true"/>.</value>
    public bool HeartbeatEnabled { get; set; } = true;

    /// <summary>Gets or sets how many probes of one heartbeat round run at once, across all upstreams.</summary>
    /// <value>Default 64.</value>
    public int HeartbeatConcurrency { get; set; } = 64;

    /// <summary>Gets or sets the zone this process runs in; servers with the same <see cref="ServerOptions.Zone"/> are local to it.</summary>
    /// <value>Default <see langword="null"/>.</value>
    public string? LocalZone { get; set; }

    /// <summary>Gets or sets whether servers whose address is one of this machine's addresses (or loopback) count as local.</summary>
    /// <value>Default <see langword="true"/>.</value>
    public bool PreferLocalAddresses { get; set; } = true;

    /// <summary>Gets the upstreams by name (names compare case-insensitively, as configuration keys do).</summary>
    /// <value>Default empty.</value>
    public IDictionary<string, UpstreamOptions> Upstreams { get; } =
        new Dictionary<string, UpstreamOptions>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets or sets what binding from configuration found (problems, whether the section was there); null when set in code only.</summary>
    internal ConfigurationBinding? Binding { get; set; }
}
