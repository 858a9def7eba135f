using System;

namespace Checkups;

/// <summary>The base of every exception Checkups throws.</summary>
public class CheckupsException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="CheckupsException"/> class.</summary>
    public CheckupsException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CheckupsException"/> class.</summary>
    /// <param name="message">The error message.</param>
    public CheckupsException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CheckupsException"/> class.</summary>
    /// <param name="message">The error message.</param>
    /// <param name="innerException">The cause.</param>
    public CheckupsException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
