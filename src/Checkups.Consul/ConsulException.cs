using System;

namespace Checkups.Consul;

/// <summary>Consul could not be read, or answered something that cannot be used. The message never holds the ACL token.</summary>
public sealed class ConsulException : CheckupsException
{
    /// <summary>Initializes a new instance of the <see cref="ConsulException"/> class.</summary>
    /// <param name="message">What went wrong.</param>
    public ConsulException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ConsulException"/> class.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public ConsulException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
