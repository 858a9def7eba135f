using System;

namespace Checkups.Registry;

/// <summary>Thrown when a call names an upstream the registry does not have.</summary>
public sealed class UpstreamNotFoundException : CheckupsException
{
    /// <summary>Initializes a new instance of the <see cref="UpstreamNotFoundException"/> class.</summary>
    /// <param name="upstream">The unknown upstream name.</param>
    public UpstreamNotFoundException(string upstream)
        : base($"Upstream '{upstream}' is not defined.")
    {
        Upstream = upstream;
    }

    /// <summary>Initializes a new instance of the <see cref="UpstreamNotFoundException"/> class.</summary>
    public UpstreamNotFoundException()
    {
        Upstream = string.Empty;
    }

    /// <summary>Initializes a new instance of the <see cref="UpstreamNotFoundException"/> class.</summary>
    /// <param name="message">The error message.</param>
    /// <param name="innerException">The cause.</param>
    public UpstreamNotFoundException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Upstream = string.Empty;
    }

    /// <summary>Gets the unknown upstream name.</summary>
    public string Upstream { get; }
}
