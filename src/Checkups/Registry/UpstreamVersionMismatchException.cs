using System;
using System.Globalization;

namespace Checkups.Registry;

/// <summary>Thrown when a conditional write finds the upstream missing or at another version than the caller read.</summary>
public sealed class UpstreamVersionMismatchException : CheckupsException
{
    /// <summary>Initializes a new instance of the <see cref="UpstreamVersionMismatchException"/> class.</summary>
    /// <param name="upstream">The upstream name.</param>
    /// <param name="expected">The version the caller read.</param>
    /// <param name="actual">The version the upstream is at; <see langword="null"/> when it does not exist.</param>
    public UpstreamVersionMismatchException(string upstream, long expected, long? actual)
        : base(actual is { } at
            ? string.Create(CultureInfo.InvariantCulture, $"Upstream '{upstream}' is at version {at}, not {expected}; read it again and reapply the change.")
            : string.Create(CultureInfo.InvariantCulture, $"Upstream '{upstream}' does not exist (expected version {expected})."))
    {
        Upstream = upstream;
        Expected = expected;
        Actual = actual;
    }

    /// <summary>Initializes a new instance of the <see cref="UpstreamVersionMismatchException"/> class.</summary>
    public UpstreamVersionMismatchException()
        : this(string.Empty, 0, null)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="UpstreamVersionMismatchException"/> class.</summary>
    /// <param name="message">The error message.</param>
    /// <param name="innerException">The cause.</param>
    public UpstreamVersionMismatchException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Upstream = string.Empty;
    }

    /// <summary>Gets the upstream name.</summary>
    public string Upstream { get; }

    /// <summary>Gets the version the caller read.</summary>
    public long Expected { get; }

    /// <summary>Gets the version the upstream is at; <see langword="null"/> when it does not exist.</summary>
    public long? Actual { get; }
}
