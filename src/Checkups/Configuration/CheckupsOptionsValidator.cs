using System;
using System.Buffers;
using System.Collections.Generic;
using System.Linq;
using System.Globalization;
using Checkups.Balancing;

namespace Checkups.Configuration;

/// <summary>
/// Checks options whole and reports every problem at once, each prefixed with its configuration path,
/// e.g. <c>Checkups:Upstreams:api:Clusters:0:Servers:1:Port must be between 1 and 65535 (was 70000)</c>. Values that would
/// only fail later (an infinite factor, a time span no timer accepts, a table too large to build) are rejected here.
/// </summary>
internal static class CheckupsOptionsValidator
{
    internal const int MaxWeight = 1_000_000;
    internal const int MinTableSize = 1009;
    internal const int MaxKetamaWeight = 10_000;

    /// <summary>The largest Maglev table: the top of the default ladder (65,535 servers at 100 slots each fit below it).</summary>
    internal const int MaxTableSize = 12_800_009;

    /// <summary>The longest time span timers and <see cref="System.Threading.CancellationTokenSource"/> accept (about 49.7 days).</summary>
    internal static readonly TimeSpan MaxTimerSpan = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private static readonly SearchValues<char> TokenCharacters = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-");
    private static readonly SearchValues<char> HeaderNameCharacters = SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    /// <summary>Validates the global settings and every upstream of <paramref name="options"/>.</summary>
    public static List<string> Validate(CheckupsOptions options, string prefix, IReadOnlySet<string> probeTypes, SelectorCatalog modes)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = Registry.CheckupsSettings.From(options);
        var errors = ValidateSettings(settings, prefix);
        foreach (var (name, upstream) in options.Upstreams)
        {
            ValidateUpstream(name, upstream, Invariant($"{prefix}:Upstreams:{name}"), settings.Locality, prefix, probeTypes, modes, errors);
        }

        return errors;
    }

    public static List<string> ValidateSettings(Registry.CheckupsSettings settings, string prefix)
    {
        var errors = new List<string>();
        ValidateTimer(settings.HeartbeatInterval, Invariant($"{prefix}:HeartbeatInterval"), errors);
        if (settings.HeartbeatConcurrency < 1)
        {
            errors.Add(Invariant($"{prefix}:HeartbeatConcurrency must be at least 1 (was {settings.HeartbeatConcurrency})"));
        }

        if (settings.Locality.Zone is { } zone && string.IsNullOrWhiteSpace(zone))
        {
            errors.Add(Invariant($"{prefix}:LocalZone must be null or non-empty (was '{zone}')"));
        }

        return errors;
    }

    public static void ValidateUpstream(string? name, UpstreamOptions? upstream, string path, Locality locality, string prefix, IReadOnlySet<string> probeTypes, SelectorCatalog modes, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            errors.Add(Invariant($"{path} must have a non-empty name"));
        }
        else if (Model.UpstreamName.Problem(name) is { } problem)
        {
            errors.Add(Invariant($"{path}: the upstream's name {problem}"));
        }

        if (upstream is null)
        {
            errors.Add(Invariant($"{path} must not be null"));
            return;
        }

        if (!modes.IsKnown(upstream.Mode))
        {
            errors.Add(Invariant($"{path}:Mode must be one of {modes.KnownModes} (was '{upstream.Mode}')"));
        }

        else
        {
            ValidateModeOptions(upstream, path, locality, prefix, modes, errors);
        }

        ValidateHeartbeat(upstream.Heartbeat, Invariant($"{path}:Heartbeat"), probeTypes, errors);

        if (upstream.Try is < 1)
        {
            errors.Add(Invariant($"{path}:Try must be at least 1 (was {upstream.Try})"));
        }

        if (upstream.TryTimeout is { } tryTimeout && tryTimeout <= TimeSpan.Zero && tryTimeout != System.Threading.Timeout.InfiniteTimeSpan)
        {
            errors.Add(Invariant($"{path}:TryTimeout must be greater than zero; TimeSpan.MaxValue or Timeout.InfiniteTimeSpan (-00:00:00.001) mean never (was {tryTimeout})"));
        }

        ValidateTimer(upstream.Timeouts.Connect, Invariant($"{path}:Timeouts:Connect"), errors);
        ValidateTimer(upstream.Timeouts.Send, Invariant($"{path}:Timeouts:Send"), errors);
        ValidateTimer(upstream.Timeouts.Read, Invariant($"{path}:Timeouts:Read"), errors);
        for (int i = 0; i < upstream.FailureStatuses.Count; i++)
        {
            if (upstream.FailureStatuses[i] is < 100 or > 599)
            {
                errors.Add(Invariant($"{path}:FailureStatuses:{i} must be a status code from 100 to 599 (was {upstream.FailureStatuses[i]})"));
            }
        }

        int forms = (upstream.Servers.Count > 0 ? 1 : 0) + (upstream.Clusters.Count > 0 ? 1 : 0) + (upstream.NamedClusters.Count > 0 ? 1 : 0);
        if (forms == 0)
        {
            errors.Add(Invariant($"{path} must define its servers in Servers, Clusters or NamedClusters"));
        }
        else if (forms > 1)
        {
            errors.Add(Invariant($"{path} must define its servers in only one of Servers, Clusters or NamedClusters"));
        }

        if (upstream.Servers.Count > 0)
        {
            ServerListValidator.ValidateServers(upstream.Servers, Invariant($"{path}:Servers"), errors);
        }

        for (int i = 0; i < upstream.Clusters.Count; i++)
        {
            ServerListValidator.ValidateCluster(upstream.Clusters[i], Invariant($"{path}:Clusters:{i}"), errors);
        }

        if (modes.IsKnown(upstream.Mode) && BalancingModes.IsHashing(modes.Canonical(upstream.Mode)))
        {
            ServerListValidator.ValidateClusterSizes(upstream, path, errors);
        }

        if (string.Equals(upstream.Hash.Algorithm, HashAlgorithms.Ketama, StringComparison.Ordinal))
        {
            ServerListValidator.ValidateKetamaWeight(upstream.Servers, Invariant($"{path}:Servers"), errors);
            for (int i = 0; i < upstream.Clusters.Count; i++)
            {
                ServerListValidator.ValidateKetamaWeight(upstream.Clusters[i]?.Servers, Invariant($"{path}:Clusters:{i}:Servers"), errors);
            }

            foreach (var (clusterName, cluster) in upstream.NamedClusters)
            {
                ServerListValidator.ValidateKetamaWeight(cluster?.Servers, Invariant($"{path}:NamedClusters:{clusterName}:Servers"), errors);
            }
        }

        foreach (var (clusterName, cluster) in upstream.NamedClusters)
        {
            string clusterPath = Invariant($"{path}:NamedClusters:{clusterName}");
            if (string.IsNullOrWhiteSpace(clusterName))
            {
                errors.Add(Invariant($"{clusterPath} must have a non-empty name"));
            }
            else if (int.TryParse(clusterName, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
            {
                // Callers pass cluster orders as names or level numbers; a numeric name would be ambiguous.
                errors.Add(Invariant($"{clusterPath} must not be named with a number (was '{clusterName}'); use Clusters for levels"));
            }

            ServerListValidator.ValidateCluster(cluster, clusterPath, errors);
        }
    }

    private static void ValidateHeartbeat(HeartbeatOptions heartbeat, string path, IReadOnlySet<string> probeTypes, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(heartbeat.Type) || !probeTypes.Contains(heartbeat.Type))
        {
            errors.Add(Invariant($"{path}:Type must name a probe: one of {string.Join(", ", probeTypes.Order(StringComparer.Ordinal))} (was '{heartbeat.Type}')"));
        }

        if (heartbeat.Sensibility < 1)
        {
            errors.Add(Invariant($"{path}:Sensibility must be at least 1 (was {heartbeat.Sensibility})"));
        }

        var http = heartbeat.Http;
        if (string.IsNullOrEmpty(http.Method) || http.Method.AsSpan().IndexOfAnyExcept(TokenCharacters) >= 0)
        {
            errors.Add(Invariant($"{path}:Http:Method must be an HTTP method such as GET or HEAD (was '{http.Method}')"));
        }

        if (string.IsNullOrEmpty(http.Path) || http.Path[0] != '/' || http.Path.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            errors.Add(Invariant($"{path}:Http:Path must start with '/' and contain no spaces or control characters (was '{Printable(http.Path)}')"));
        }

        if (http.Host is { } host && (host.Length == 0 || host.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))))
        {
            errors.Add(Invariant($"{path}:Http:Host must be a host name without spaces, CR, LF or other control characters (was '{Printable(host)}')"));
        }

        foreach (string code in http.Statuses.Keys)
        {
            if (!int.TryParse(code, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value is < 100 or > 599)
            {
                errors.Add(Invariant($"{path}:Http:Statuses:{code} must be a status code from 100 to 599"));
            }
        }

        for (int i = 0; i < http.AliveStatuses.Count; i++)
        {
            string alive = http.AliveStatuses[i] ?? string.Empty;
            bool isClass = alive.Length == 3 && alive[0] is >= '1' and <= '5' && alive.EndsWith("xx", StringComparison.OrdinalIgnoreCase);
            bool isCode = int.TryParse(alive, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value is >= 100 and <= 599;
            if (!isClass && !isCode)
            {
                errors.Add(Invariant($"{path}:Http:AliveStatuses:{i} must be a class such as 2xx or a code from 100 to 599 (was '{alive}')"));
            }
        }
    }

    private static void ValidateModeOptions(UpstreamOptions upstream, string path, Locality locality, string prefix, SelectorCatalog modes, List<string> errors)
    {
        string mode = modes.Canonical(upstream.Mode);
        var hash = upstream.Hash;
        if (hash.Algorithm is not (HashAlgorithms.Maglev or HashAlgorithms.Ketama))
        {
            errors.Add(Invariant($"{path}:Hash:Algorithm must be one of {HashAlgorithms.Maglev}, {HashAlgorithms.Ketama} (was '{hash.Algorithm}')"));
        }

        if (hash.TableSize is { } size && (size < MinTableSize || size > MaxTableSize || !MaglevTable.IsPrime(size)))
        {
            errors.Add(Invariant($"{path}:Hash:TableSize must be a prime number from {MinTableSize} to {MaxTableSize} (was {size})"));
        }

        if (hash.BalanceFactor is { } factor && !(factor >= 1.0 && double.IsFinite(factor)))
        {
            errors.Add(Invariant($"{path}:Hash:BalanceFactor must be a finite number of at least 1 (was {factor})"));
        }

        if (mode == BalancingModes.HeaderHash && string.IsNullOrWhiteSpace(hash.Header))
        {
            errors.Add(Invariant($"{path}:Hash:Header must name a request header in mode {BalancingModes.HeaderHash}"));
        }
        else if (hash.Header is { Length: > 0 } header && header.AsSpan().IndexOfAnyExcept(HeaderNameCharacters) >= 0)
        {
            errors.Add(Invariant($"{path}:Hash:Header must be a header name: letters, digits and !#$%&'*+-.^_`|~ only (was '{Printable(header)}')"));
        }

        ValidateTimer(upstream.Fastest.DecayTime, Invariant($"{path}:Fastest:DecayTime"), errors);
        if (upstream.Fastest.FailurePenalty < TimeSpan.Zero || upstream.Fastest.FailurePenalty > MaxTimerSpan)
        {
            errors.Add(Invariant($"{path}:Fastest:FailurePenalty must be from 0 to {MaxTimerSpan} (was {upstream.Fastest.FailurePenalty})"));
        }

        if (!(upstream.LocalFirst.PanicThreshold is >= 0.0 and <= 1.0))
        {
            errors.Add(Invariant($"{path}:LocalFirst:PanicThreshold must be between 0 and 1 (was {upstream.LocalFirst.PanicThreshold})"));
        }

        if (mode == BalancingModes.LocalFirst && locality.Zone is null && !locality.PreferLocalAddresses)
        {
            errors.Add(Invariant($"{path}:Mode {BalancingModes.LocalFirst} needs {prefix}:LocalZone or {prefix}:PreferLocalAddresses to tell which servers are local"));
        }
    }

    /// <summary>
    /// A try timeout as calls apply it: <see langword="null"/> for none, and for "never" (<see cref="TimeSpan.MaxValue"/>,
    /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/>, or anything longer than a timer can be armed with).
    /// </summary>
    internal static TimeSpan? EffectiveTryTimeout(TimeSpan? value) =>
        value is { } span && (span == System.Threading.Timeout.InfiniteTimeSpan || span > MaxTimerSpan) ? null : value;

    /// <summary>A span a timer or a cancellation source will be armed with: greater than zero and at most <see cref="MaxTimerSpan"/>.</summary>
    internal static void ValidateTimer(TimeSpan value, string path, List<string> errors)
    {
        if (value <= TimeSpan.Zero || value > MaxTimerSpan)
        {
            errors.Add(Invariant($"{path} must be greater than zero and at most {MaxTimerSpan} (was {value})"));
        }
    }

    /// <summary>A value as it may be quoted in an error: control characters escaped, at most 100 characters.</summary>
    internal static string Printable(string value)
    {
        var text = new System.Text.StringBuilder();
        foreach (char c in value.Length > 100 ? value[..100] : value)
        {
            var category = char.GetUnicodeCategory(c);
            bool visible = !char.IsControl(c) && category is not (UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.Surrogate or UnicodeCategory.OtherNotAssigned);
            text.Append(visible ? c.ToString() : Invariant($"\\u{(int)c:x4}"));
        }

        return value.Length > 100 ? text.Append('…').ToString() : text.ToString();
    }

    internal static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
