using System;
using Checkups.Model;

namespace Checkups.Execution;

/// <summary>One failed attempt of a call: the server tried and why it failed.</summary>
public sealed class UpstreamAttempt
{
    /// <summary>Initializes an attempt record (the attempt engine, <see cref="UpstreamCall"/>, keeps them).</summary>
    /// <param name="server">The server that was tried.</param>
    /// <param name="exception">Why it failed; <see langword="null"/> when its result (a status) was classified as a failure.</param>
    internal UpstreamAttempt(Server server, Exception? exception)
    {
        Server = server;
        Exception = exception;
    }

    /// <summary>Gets the server that was tried.</summary>
    public Server Server { get; }

    /// <summary>Gets the exception the callback threw; <see langword="null"/> when its result was classified as a failure.</summary>
    public Exception? Exception { get; }

    /// <inheritdoc />
    public override string ToString() =>
        Exception is null
            ? $"{Server.Key} (cluster {Server.Cluster}): result classified as failure"
            : $"{Server.Key} (cluster {Server.Cluster}): {Exception.GetType().Name}: {Exception.Message}";
}
