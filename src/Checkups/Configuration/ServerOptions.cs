using System;
using System.Collections.Generic;

namespace Checkups.Configuration;

/// <summary>One backend server (server) of a cluster.</summary>
public sealed class ServerOptions
{
    /// <summary>Gets or sets the host name or IP address, without scheme or port.</summary>
    /// <value>Default empty; required.</value>
    public string Host { get; set; } = string.Empty;

    /// <summary>Gets or sets the TCP port.</summary>
    /// <value>Default 0; required, 1 to 65535.</value>
    public int Port { get; set; }

    /// <summary>Gets or sets the relative weight of the server.</summary>
    /// <value>Default 1; 1 to 1,000,000.</value>
    public int Weight { get; set; } = 1;

    /// <summary>
    /// Gets or sets how many failures within <see cref="FailTimeout"/> mark the server <c>err</c>
    /// for <see cref="FailTimeout"/>. 0 turns passive failure accounting off.
    /// </summary>
    /// <value>Default 0.</value>
    public int MaxFails { get; set; }

    /// <summary>Gets or sets the passive failure window, and how long a server stays <c>err</c> once marked.</summary>
    /// <value>Default 10 seconds.</value>
    public TimeSpan FailTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets whether the server is administratively off (never selected).</summary>
    /// <value>Default <see langword="false"/>.</value>
    public bool Down { get; set; }

    /// <summary>
    /// Gets or sets why the server's source reports it degraded (a Consul check in <c>warning</c>, say), or
    /// <see langword="null"/> when it does not. An unstable server stays selectable and is reported <c>unstable</c> with this
    /// message, unless a failure makes it <c>err</c>.
    /// </summary>
    /// <value>Default <see langword="null"/>; when set, not empty.</value>
    public string? UnstableReason { get; set; }

    /// <summary>Gets or sets the locality zone of the server, used by local-first balancing.</summary>
    /// <value>Default <see langword="null"/>.</value>
    public string? Zone { get; set; }

    /// <summary>Gets free-form tags of the server.</summary>
    /// <value>Default empty.</value>
    public IDictionary<string, string> Metadata { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Copies every option, deep: changing the copy changes nothing here.</summary>
    /// <returns>The copy.</returns>
    public ServerOptions Clone() => OptionsCopy.Of(this)!;
}
