using System;

namespace Checkups.Configuration;

/// <summary>Per-upstream network timeouts (lua <c>get_ups_timeout</c>).</summary>
public sealed class TimeoutOptions
{
    /// <summary>Gets or sets the time allowed to connect to a server (also the active probe's timeout).</summary>
    /// <value>Default 5 seconds.</value>
    public TimeSpan Connect { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets the time allowed to send a request.</summary>
    /// <value>Default 5 seconds.</value>
    public TimeSpan Send { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets the time allowed to read a response.</summary>
    /// <value>Default 5 seconds.</value>
    public TimeSpan Read { get; set; } = TimeSpan.FromSeconds(5);
}
