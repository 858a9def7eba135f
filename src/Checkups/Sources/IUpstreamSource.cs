using System;
using System.Collections.Generic;
using Checkups.Configuration;
using Microsoft.Extensions.Primitives;

namespace Checkups.Sources;

/// <summary>
/// A source of upstreams (as YARP's <c>IProxyConfigProvider</c> and ServiceDiscovery's endpoint providers): it owns the
/// upstreams it names and says when they change. The registry applies each snapshot whole and only to what the source
/// owns: upstreams it no longer lists are removed, and a name another source owns rejects the whole snapshot. Register one
/// in the service collection as <see cref="IUpstreamSource"/>, or attach it with <c>UpstreamRegistry.AddSource</c>.
/// </summary>
public interface IUpstreamSource
{
    /// <summary>Gets the source's name, shown as the owner of its upstreams; unique within a registry.</summary>
    string Name { get; }

    /// <summary>Gets the upstreams the source holds now, and the token that fires when they change.</summary>
    /// <returns>The snapshot; the registry copies what it keeps.</returns>
    UpstreamSourceSnapshot GetSnapshot();
}

/// <summary>What a source holds at one moment.</summary>
public sealed class UpstreamSourceSnapshot
{
    /// <summary>Initializes a new instance of the <see cref="UpstreamSourceSnapshot"/> class.</summary>
    /// <param name="upstreams">Every upstream the source owns, by name.</param>
    /// <param name="changeToken">Fires when the source holds something new; the registry then asks for a new snapshot.</param>
    public UpstreamSourceSnapshot(IReadOnlyDictionary<string, UpstreamOptions> upstreams, IChangeToken changeToken)
    {
        ArgumentNullException.ThrowIfNull(upstreams);
        ArgumentNullException.ThrowIfNull(changeToken);
        Upstreams = upstreams;
        ChangeToken = changeToken;
    }

    /// <summary>Gets every upstream the source owns, by name.</summary>
    public IReadOnlyDictionary<string, UpstreamOptions> Upstreams { get; }

    /// <summary>Gets the token that fires when the source holds something new.</summary>
    public IChangeToken ChangeToken { get; }
}

/// <summary>The names of the built-in sources, as shown in the status.</summary>
public static class UpstreamSourceNames
{
    /// <summary>The options pipeline (<c>IConfiguration</c>, <c>Configure</c>, <c>PostConfigure</c>).</summary>
    public const string Configuration = "configuration";

    /// <summary>The run-time API of <c>UpstreamRegistry</c> (<c>Update</c>, <c>UpdateServers</c>, <c>Delete</c>…).</summary>
    public const string Runtime = "runtime";
}
