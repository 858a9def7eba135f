using Grpc.Net.Client.Balancer;

namespace Checkups.Grpc;

/// <summary>
/// What the resolver writes on each <see cref="BalancerAddress"/> so the balancer can tie a subchannel to a Checkups
/// server without parsing endpoints: the server key (<c>host:port</c>, as <c>Server.Key</c> spells it) and the upstream.
/// </summary>
internal static class ServerAttributes
{
    /// <summary>The server key, <c>host:port</c>.</summary>
    public static readonly BalancerAttributesKey<string> ServerKey = new("checkups.server");

    /// <summary>The upstream the server belongs to.</summary>
    public static readonly BalancerAttributesKey<string> Upstream = new("checkups.upstream");
}
