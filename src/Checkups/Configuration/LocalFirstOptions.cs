namespace Checkups.Configuration;

/// <summary>Tuning of the <c>local</c> mode. Which servers are local is set once for the process: <see cref="CheckupsOptions.LocalZone"/>.</summary>
public sealed class LocalFirstOptions
{
    /// <summary>
    /// Gets or sets the panic threshold: when the selectable share of the local servers' weight falls below it, calls are
    /// balanced over every server, so the last local servers are not loaded with the local share.
    /// </summary>
    /// <value>Default 0.2; 0 to 1.</value>
    public double PanicThreshold { get; set; } = 0.2;
}
