using System;
using System.Collections.Generic;

namespace Checkups.Configuration;

/// <summary>
/// One upstream (lua-resty-checkups: <c>skey</c>): a named service with its servers and policies.
/// Exactly one of <see cref="Servers"/>, <see cref="Clusters"/> or <see cref="NamedClusters"/> is set.
/// </summary>
public sealed class UpstreamOptions
{
    /// <summary>Gets or sets the balancing mode.</summary>
    /// <value>Default <c>wrr</c> (smooth weighted round robin).</value>
    public string Mode { get; set; } = BalancingModes.WeightedRoundRobin;

    /// <summary>Gets the servers of a single level-1 cluster: a shorthand for one entry in <see cref="Clusters"/>.</summary>
    /// <value>Default empty.</value>
    public IList<ServerOptions> Servers { get; } = new List<ServerOptions>();

    /// <summary>
    /// Gets the clusters as priority levels: the first entry is level 1, the next level 2, and so on.
    /// Level N+1 is used only when no server of the levels before it can serve a call.
    /// </summary>
    /// <value>Default empty.</value>
    public IList<ClusterOptions> Clusters { get; } = new List<ClusterOptions>();

    /// <summary>
    /// Gets the clusters by name (for example <c>dc1</c>, <c>dc2</c>), tried in the order a caller passes;
    /// without one, in the order they were added (from configuration: key order).
    /// </summary>
    /// <value>Default empty.</value>
    public IDictionary<string, ClusterOptions> NamedClusters { get; } =
        new Dictionary<string, ClusterOptions>(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Gets or sets whether the active health check keeps the first server selectable
    /// (<c>unstable</c>) when every server of the upstream fails its probe.
    /// </summary>
    /// <value>Default <see langword="true"/>.</value>
    public bool Protected { get; set; } = true;

    /// <summary>Gets or sets how many servers one call may try.</summary>
    /// <value>Default <see langword="null"/>: the number of servers of the upstream.</value>
    public int? Try { get; set; }

    /// <summary>Gets or sets the time after which a call stops trying further servers.</summary>
    /// <value>Default <see langword="null"/>: no limit.</value>
    public TimeSpan? TryTimeout { get; set; }

    /// <summary>Gets the connect, send and read timeouts of this upstream (lua <c>get_ups_timeout</c>).</summary>
    /// <value>Default 5 seconds each.</value>
    public TimeoutOptions Timeouts { get; } = new();

    /// <summary>
    /// Gets the HTTP status codes that make a call a failure: it is reported against the server and retried on another
    /// (the HttpClient handler, and callers that judge HTTP results through <c>Upstream.FailureStatuses</c>).
    /// </summary>
    /// <value>Default empty: 502, 503 and 504.</value>
    public IList<int> FailureStatuses { get; } = new List<int>();

    /// <summary>Gets how the hashing modes place keys.</summary>
    /// <value>Default Maglev, no bounded load.</value>
    public HashOptions Hash { get; } = new();

    /// <summary>Gets the tuning of the <c>fastest</c> mode.</summary>
    /// <value>Default decay 10 s, failure penalty 1 s.</value>
    public FastestResponseOptions Fastest { get; } = new();

    /// <summary>Gets the tuning of the <c>local</c> mode.</summary>
    /// <value>Default panic threshold 0.2.</value>
    public LocalFirstOptions LocalFirst { get; } = new();

    /// <summary>Gets the active health check of this upstream.</summary>
    /// <value>Default a <c>tcp</c> probe, sensibility 1, enabled as <see cref="CheckupsOptions.HeartbeatEnabled"/> says.</value>
    public HeartbeatOptions Heartbeat { get; } = new();

    /// <summary>A deep copy: every option, servers and clusters included (sources use it to build upstreams from a template).</summary>
    /// <returns>The copy.</returns>
    public UpstreamOptions Clone() => OptionsCopy.Of(this);

    /// <summary>
    /// Writes every option as JSON, with the .NET property names: the text is equal for two upstreams exactly when every
    /// option is equal (sources use it to tell whether a list changed, and to keep a copy on disk).
    /// </summary>
    /// <returns>The JSON text.</returns>
    public string ToJson() => System.Text.Json.JsonSerializer.Serialize(this, OptionsJsonContext.Default.UpstreamOptions);

    /// <summary>Writes the JSON of <see cref="ToJson"/> to <paramref name="writer"/>, without a string in between (a large upstream's JSON is megabytes).</summary>
    /// <param name="writer">Where the JSON value is written.</param>
    public void WriteJson(System.Text.Json.Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        System.Text.Json.JsonSerializer.Serialize(writer, this, OptionsJsonContext.Default.UpstreamOptions);
    }

    /// <summary>Reads an upstream written by <see cref="ToJson"/>.</summary>
    /// <param name="json">The UTF-8 JSON.</param>
    /// <returns>The upstream (not validated: the registry validates what it applies).</returns>
    /// <exception cref="System.Text.Json.JsonException">The text is not an upstream.</exception>
    public static UpstreamOptions FromJson(ReadOnlySpan<byte> json) =>
        System.Text.Json.JsonSerializer.Deserialize(json, OptionsJsonContext.Default.UpstreamOptions)
        ?? throw new System.Text.Json.JsonException("the JSON is null, not an upstream");
}
