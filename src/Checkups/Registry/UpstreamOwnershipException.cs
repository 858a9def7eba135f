using System;

namespace Checkups.Registry;

/// <summary>Thrown when a source changes or deletes an upstream that another source owns.</summary>
public sealed class UpstreamOwnershipException : CheckupsException
{
    /// <summary>Initializes a new instance of the <see cref="UpstreamOwnershipException"/> class.</summary>
    /// <param name="upstream">The upstream name.</param>
    /// <param name="owner">The source that owns it.</param>
    /// <param name="source">The source that tried to change it.</param>
    public UpstreamOwnershipException(string upstream, string owner, string source)
        : base($"Upstream '{upstream}' is owned by source '{owner}'; source '{source}' cannot change or delete it.")
    {
        Upstream = upstream;
        Owner = owner;
        RefusedSource = source;
    }

    /// <summary>Initializes a new instance of the <see cref="UpstreamOwnershipException"/> class.</summary>
    public UpstreamOwnershipException()
        : this(string.Empty, string.Empty, string.Empty)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="UpstreamOwnershipException"/> class.</summary>
    /// <param name="message">The error message.</param>
    /// <param name="innerException">The cause.</param>
    public UpstreamOwnershipException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Upstream = Owner = RefusedSource = string.Empty;
    }

    /// <summary>Gets the upstream name.</summary>
    public string Upstream { get; }

    /// <summary>Gets the name of the source whose change was refused.</summary>
    public string RefusedSource { get; }

    /// <summary>Gets the name of the source that owns the upstream.</summary>
    public string Owner { get; }
}
