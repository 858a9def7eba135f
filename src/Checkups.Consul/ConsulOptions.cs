using System;
using System.Collections.Generic;
using System.Globalization;
using Checkups.Configuration;

namespace Checkups.Consul;

/// <summary>What a Consul watch reads for its upstream.</summary>
public enum ConsulWatchKind
{
    /// <summary>One key per server under <c>{KeyPrefix}{upstream}/</c>, as nginx-upsync-module reads them.</summary>
    KvPerServer,

    /// <summary>
    /// One key, <c>{KeyPrefix}{upstream}</c>, holding the whole upstream as JSON (Slardar's format, read by
    /// <see cref="UpstreamJson"/> over <see cref="ConsulOptions.Template"/>); an invalid value is rejected whole.
    /// </summary>
    KvPerUpstream,

    /// <summary>
    /// The instances of a service and their checks (<c>/v1/health/service/{service}</c>): a critical check makes an
    /// instance down, a warning makes it <see cref="ConsulOptions.WarningAs"/>.
    /// </summary>
    ServiceHealth,
}

/// <summary>What a service instance whose worst check is <c>warning</c> becomes.</summary>
public enum ConsulWarningAs
{
    /// <summary>Selectable, reported <c>unstable</c> with the check's name.</summary>
    Unstable,

    /// <summary>Not selectable, as a critical check.</summary>
    Down,

    /// <summary>As a passing one.</summary>
    Passing,
}

/// <summary>One Consul watch: the upstream it feeds, what it reads, and how it talks to Consul.</summary>
public sealed class ConsulOptions
{
    /// <summary>Gets or sets the upstream this watch feeds (and owns).</summary>
    public string Upstream { get; set; } = string.Empty;

    /// <summary>Gets or sets what is read.</summary>
    /// <value>Default <see cref="ConsulWatchKind.KvPerServer"/>.</value>
    public ConsulWatchKind Kind { get; set; } = ConsulWatchKind.KvPerServer;

    /// <summary>Gets or sets the Consul service read by <see cref="ConsulWatchKind.ServiceHealth"/>.</summary>
    /// <value>Default <see langword="null"/>: the upstream's name.</value>
    public string? Service { get; set; }

    /// <summary>Gets or sets the <c>Service.Meta</c> key whose value is an instance's zone (for local-first balancing).</summary>
    /// <value>Default <c>zone</c>; <see langword="null"/> reads no zone.</value>
    public string? ZoneMetaKey { get; set; } = "zone";

    /// <summary>Gets or sets what an instance whose worst check is <c>warning</c> becomes.</summary>
    /// <value>Default <see cref="ConsulWarningAs.Unstable"/>.</value>
    public ConsulWarningAs WarningAs { get; set; } = ConsulWarningAs.Unstable;

    /// <summary>Gets or sets the KV prefix the upstream's keys live under.</summary>
    /// <value>Default <c>upstreams/</c>.</value>
    public string KeyPrefix { get; set; } = "upstreams/";

    /// <summary>
    /// Gets the upstream's other options (mode, try, timeouts, heartbeat…) for the kinds that read only servers; its
    /// servers and clusters must be empty.
    /// </summary>
    public UpstreamOptions Template { get; } = new();

    /// <summary>
    /// Gets or sets whether an answer with no server (no key under the prefix, no instance of the service, or keys the ACL
    /// token may not read, which Consul hides) removes every server. By default such an answer is not applied: the last
    /// good list stays (none is created at start), with a warning (event 204) and <see cref="ConsulWatch.LastError"/>.
    /// </summary>
    public bool AllowEmpty { get; set; }

    /// <summary>Gets the agents' HTTP addresses, tried in order on failure.</summary>
    /// <value>Default <c>http://127.0.0.1:8500</c> when empty.</value>
    public IList<string> Addresses { get; } = new List<string>();

    /// <summary>Gets or sets the ACL token, sent as <c>X-Consul-Token</c>; never logged, never in the status or the dump.</summary>
    public string? Token { get; set; }

    /// <summary>Gets or sets the datacenter (<c>dc</c>); the agent's own when empty.</summary>
    public string? Datacenter { get; set; }

    /// <summary>Gets or sets whether any server may answer (<c>stale</c>), not only the leader.</summary>
    public bool Stale { get; set; }

    /// <summary>Gets or sets the blocking query's wait.</summary>
    /// <value>Default 5 minutes; from 1 second to 10 minutes.</value>
    public TimeSpan Wait { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Gets or sets how much longer than wait + wait/16 the client waits for an answer.</summary>
    /// <value>Default 5 seconds.</value>
    public TimeSpan TimeoutMargin { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets the connect timeout to an agent.</summary>
    /// <value>Default 2 seconds.</value>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Gets or sets the largest response body read.</summary>
    /// <value>Default 4 MiB.</value>
    public int MaxResponseBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Gets or sets the pause a token of the rate limit takes to come back (burst 2): answers that bring nothing new are not read faster.</summary>
    /// <value>Default 1 second.</value>
    public TimeSpan RateLimitInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the first backoff after an error; it doubles, with jitter, up to <see cref="MaxBackoff"/>.</summary>
    /// <value>Default 200 ms.</value>
    public TimeSpan MinBackoff { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Gets or sets the longest backoff after errors.</summary>
    /// <value>Default 30 seconds.</value>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the dump file: the upstream as last applied, written after every change, read at start when Consul cannot be reached.</summary>
    public string? DumpFile { get; set; }

    /// <summary>Gets or sets whether start fails when Consul cannot be reached (instead of starting from the dump).</summary>
    public bool StrongDependency { get; set; }

    /// <summary>Gets or sets how long start waits for Consul's first answer.</summary>
    /// <value>Default 10 seconds.</value>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets the service a <see cref="ConsulWatchKind.ServiceHealth"/> watch reads.</summary>
    internal string ServiceName => Service ?? Upstream;

    /// <summary>Gets the source name this watch shows as owner: <c>consul:{upstream}</c>.</summary>
    public string SourceName => "consul:" + Upstream;

    /// <summary>Checks every option; the message names each bad one.</summary>
    /// <exception cref="ArgumentException">An option is missing or out of range.</exception>
    public void Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Upstream))
        {
            errors.Add("Upstream is required");
        }
        else if (Checkups.Model.UpstreamName.Problem(Upstream) is { } problem)
        {
            // The registry's rule for every upstream name: no look-alikes (a zero-width space), one spelling (form C).
            errors.Add("Upstream " + problem);
        }

        if (!Enum.IsDefined(Kind))
        {
            errors.Add($"Kind {Kind} is not a watch kind");
        }

        if (!Enum.IsDefined(WarningAs))
        {
            errors.Add($"WarningAs {WarningAs} is not a choice");
        }

        if (Service is { } service && string.IsNullOrWhiteSpace(service))
        {
            errors.Add("Service must be null (the upstream's name) or non-empty");
        }

        if (Wait < TimeSpan.FromSeconds(1) || Wait > TimeSpan.FromMinutes(10))
        {
            errors.Add($"Wait must be from 1 second to 10 minutes (was {Wait})");
        }

        if (TimeoutMargin <= TimeSpan.Zero || ConnectTimeout <= TimeSpan.Zero || RateLimitInterval < TimeSpan.Zero)
        {
            errors.Add("TimeoutMargin and ConnectTimeout must be positive, RateLimitInterval not negative");
        }

        if (MinBackoff <= TimeSpan.Zero || MaxBackoff < MinBackoff)
        {
            errors.Add($"MinBackoff must be positive and MaxBackoff at least MinBackoff (were {MinBackoff}, {MaxBackoff})");
        }

        if (MaxResponseBytes < 1024)
        {
            errors.Add($"MaxResponseBytes must be at least 1024 (was {MaxResponseBytes})");
        }

        if (StartTimeout <= TimeSpan.Zero)
        {
            errors.Add($"StartTimeout must be positive (was {StartTimeout})");
        }

        if (Template.Servers.Count > 0 || Template.Clusters.Count > 0 || Template.NamedClusters.Count > 0)
        {
            errors.Add("Template must have no servers or clusters: they come from Consul");
        }

        foreach (string address in Addresses)
        {
            if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                errors.Add($"Addresses: '{address}' is not an http or https address");
            }
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Consul watch of upstream '{Upstream}': {string.Join("; ", errors)}"));
        }
    }

    /// <summary>The agents' base addresses, the default when none is set.</summary>
    internal IReadOnlyList<Uri> AgentUris()
    {
        var uris = new List<Uri>();
        foreach (string address in Addresses.Count > 0 ? Addresses : new[] { "http://127.0.0.1:8500" })
        {
            uris.Add(new Uri(address.EndsWith('/') ? address : address + "/", UriKind.Absolute));
        }

        return uris;
    }
}
