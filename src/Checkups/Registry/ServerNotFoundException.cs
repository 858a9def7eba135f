using System;
using System.Globalization;

namespace Checkups.Registry;

/// <summary>Thrown when a call names a server that its upstream does not have.</summary>
public sealed class ServerNotFoundException : CheckupsException
{
    /// <summary>Initializes a new instance of the <see cref="ServerNotFoundException"/> class.</summary>
    /// <param name="upstream">The upstream name.</param>
    /// <param name="host">The host that was named.</param>
    /// <param name="port">The port that was named.</param>
    public ServerNotFoundException(string upstream, string host, int port)
        : base(string.Create(CultureInfo.InvariantCulture, $"Upstream '{upstream}' has no server {Model.Server.FormatKey(host, port)}."))
    {
        Upstream = upstream;
        Host = host;
        Port = port;
    }

    /// <summary>Initializes a new instance of the <see cref="ServerNotFoundException"/> class.</summary>
    public ServerNotFoundException()
    {
        Upstream = Host = string.Empty;
    }

    /// <summary>Initializes a new instance of the <see cref="ServerNotFoundException"/> class.</summary>
    /// <param name="message">The error message.</param>
    /// <param name="innerException">The cause.</param>
    public ServerNotFoundException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Upstream = Host = string.Empty;
    }

    /// <summary>Gets the upstream name.</summary>
    public string Upstream { get; }

    /// <summary>Gets the host that was named.</summary>
    public string Host { get; }

    /// <summary>Gets the port that was named.</summary>
    public int Port { get; }
}
