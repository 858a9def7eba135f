using System;
using System.Collections.Generic;

namespace Checkups.Configuration;

/// <summary>Thrown when options are invalid; <see cref="Errors"/> lists every problem, each with its configuration path.</summary>
public sealed class CheckupsValidationException : CheckupsException
{
    /// <summary>Initializes a new instance of the <see cref="CheckupsValidationException"/> class.</summary>
    /// <param name="errors">Every problem found.</param>
    public CheckupsValidationException(IReadOnlyList<string> errors)
        : base(FormatMessage(errors))
    {
        Errors = errors;
    }

    /// <summary>Initializes a new instance of the <see cref="CheckupsValidationException"/> class.</summary>
    public CheckupsValidationException()
        : this(Array.Empty<string>())
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CheckupsValidationException"/> class.</summary>
    /// <param name="message">The error message.</param>
    public CheckupsValidationException(string message)
        : this(new[] { message })
    {
    }

    /// <summary>Initializes a new instance of the <see cref="CheckupsValidationException"/> class.</summary>
    /// <param name="message">The error message.</param>
    /// <param name="innerException">The cause.</param>
    public CheckupsValidationException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Errors = new[] { message };
    }

    /// <summary>Gets every problem found, each prefixed with its configuration path.</summary>
    public IReadOnlyList<string> Errors { get; } = Array.Empty<string>();

    private static string FormatMessage(IReadOnlyList<string> errors) =>
        errors.Count == 1
            ? "Invalid Checkups configuration: " + errors[0]
            : $"Invalid Checkups configuration ({errors.Count} problems):{Environment.NewLine} - " + string.Join(Environment.NewLine + " - ", errors);
}
