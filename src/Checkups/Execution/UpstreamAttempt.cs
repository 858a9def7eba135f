using System;
using Checkups.Model;

namespace Checkups.Execution;

/// <summary>One failed attempt of a call: the server tried and why it failed.</summary>
public sealed class UpstreamAttempt
{
    internal UpstreamAttempt(Peer peer, Exception? exception)
    {
        Peer = peer;
        Exception = exception;
    }

    /// <summary>Gets the server that was tried.</summary>
    public Peer Peer { get; }

    /// <summary>Gets the exception the callback threw; <see langword="null"/> when its result was classified as a failure.</summary>
    public Exception? Exception { get; }

    /// <inheritdoc />
    public override string ToString() =>
        Exception is null
            ? $"{Peer.Key} (cluster {Peer.Cluster}): result classified as failure"
            : $"{Peer.Key} (cluster {Peer.Cluster}): {Exception.GetType().Name}: {Exception.Message}";
}
