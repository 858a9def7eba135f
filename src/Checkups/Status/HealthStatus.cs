namespace Checkups.Status;

/// <summary>The status names a server can have in reports.</summary>
public static class HealthStatus
{
    /// <summary>Healthy and selectable.</summary>
    public const string Ok = "ok";

    /// <summary>Failing, but still selectable.</summary>
    public const string Unstable = "unstable";

    /// <summary>Not selectable (passive or active failure, or administratively down).</summary>
    public const string Err = "err";

    /// <summary>Selectable; the active health check is off for its upstream.</summary>
    public const string Unchecked = "unchecked";
}
