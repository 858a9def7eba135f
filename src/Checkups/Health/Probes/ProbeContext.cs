using System;
using Checkups.Configuration;
using Checkups.Model;

namespace Checkups.Health.Probes;

/// <summary>What a probe is asked to check: one server of one upstream, with the upstream's heartbeat options.</summary>
public sealed class ProbeContext
{
    internal ProbeContext(Upstream upstream, Server server, HeartbeatOptions options, TimeSpan timeout)
    {
        Upstream = upstream;
        Server = server;
        Options = options;
        Timeout = timeout;
    }

    /// <summary>Gets the upstream snapshot the server belongs to.</summary>
    public Upstream Upstream { get; }

    /// <summary>Gets the server to probe.</summary>
    public Server Server { get; }

    /// <summary>Gets the upstream's heartbeat options (probe type, HTTP, Redis and MySQL settings).</summary>
    public HeartbeatOptions Options { get; }

    /// <summary>Gets the time the probe has (the upstream's connect timeout); the token passed with it enforces it.</summary>
    public TimeSpan Timeout { get; }
}
