using System;

namespace Checkups.Model;

/// <summary>The connect, send and read timeouts of an upstream (lua <c>get_ups_timeout</c>).</summary>
/// <param name="Connect">Time allowed to connect to a server.</param>
/// <param name="Send">Time allowed to send a request.</param>
/// <param name="Read">Time allowed to read a response.</param>
public readonly record struct UpstreamTimeouts(TimeSpan Connect, TimeSpan Send, TimeSpan Read);
