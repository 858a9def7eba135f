using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace Checkups.Configuration;

/// <summary>
/// Reads an upstream from JSON as operators write it: lua-resty-checkups' and Slardar's spelling (<c>servers</c>, <c>host</c>,
/// <c>max_fails</c>, <c>fail_timeout</c> in seconds, <c>cluster</c> as levels or named clusters, 0/1 flags) as well as the
/// .NET option names that <see cref="UpstreamOptions.ToJson"/> writes. Used by the admin API and by Consul's key per
/// upstream, so both accept and reject the same things.
/// </summary>
/// <remarks>
/// <para>
/// Keys match option names ignoring case and underscores. A number where a time span belongs is seconds; text such as
/// <c>00:00:05</c> is a time span. <c>servers</c> is level 1; <c>clusters</c> (or <c>cluster</c>, <c>levels</c>) is a list
/// of levels when it is an array and named clusters when it is an object, each <c>{"servers": [...]}</c>. A null value
/// leaves the option as it was.
/// </para>
/// <para>
/// Reading never throws for bad input: a syntax error, a value of the wrong type, an unknown key (a misspelled
/// <c>max_fail</c>) or a key given twice is reported in <see cref="UpstreamJsonResult.Errors"/> with the option's path,
/// and no upstream is returned. Value rules (a port in range, a known mode) are the registry's, checked when the upstream
/// is applied.
/// </para>
/// </remarks>
public static class UpstreamJson
{
    private static readonly string[] ServerListKeys = { nameof(UpstreamOptions.Servers), nameof(UpstreamOptions.Clusters), nameof(UpstreamOptions.NamedClusters) };

    /// <summary>Reads <paramref name="utf8Json"/> over <paramref name="template"/>.</summary>
    /// <param name="utf8Json">The UTF-8 JSON object.</param>
    /// <param name="template">
    /// What the options not given are taken from (copied, never changed); <see langword="null"/> for the defaults. When the
    /// JSON gives servers or clusters, the template's servers and clusters are all replaced.
    /// </param>
    /// <returns>The upstream, or the errors.</returns>
    public static UpstreamJsonResult Read(ReadOnlySpan<byte> utf8Json, UpstreamOptions? template = null)
    {
        var errors = new List<UpstreamJsonError>();
        var values = new List<KeyValuePair<string, string?>>();
        var serverLists = new Dictionary<string, JsonElement>(StringComparer.OrdinalIgnoreCase);
        var given = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (!System.Text.Unicode.Utf8.IsValid(utf8Json))
        {
            errors.Add(new UpstreamJsonError(string.Empty, "the body is not valid UTF-8"));
            return new UpstreamJsonResult(null, errors, false);
        }

        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = 32 });
            document = JsonDocument.ParseValue(ref reader);

            // One JSON value and nothing after it but white space: "{...} xyz" is not an upstream.
            if (reader.Read())
            {
                document.Dispose();
                errors.Add(new UpstreamJsonError(string.Empty, "the body is not valid JSON: data follows the upstream's object"));
                return new UpstreamJsonResult(null, errors, false);
            }
        }
        catch (JsonException ex)
        {
            errors.Add(new UpstreamJsonError(string.Empty, "the body is not valid JSON: " + ex.Message));
            return new UpstreamJsonResult(null, errors, false);
        }

        // The server lists are bound straight from the document, after the rest: it lives until then.
        using (document)
        {
            return ReadDocument(template, document, values, serverLists, given, errors);
        }
    }

    private static UpstreamJsonResult ReadDocument(
        UpstreamOptions? template,
        JsonDocument document,
        List<KeyValuePair<string, string?>> values,
        Dictionary<string, JsonElement> serverLists,
        HashSet<string> given,
        List<UpstreamJsonError> errors)
    {
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new UpstreamJsonError(string.Empty, $"the upstream must be a JSON object (was {Describe(document.RootElement.ValueKind)})"));
            return new UpstreamJsonResult(null, errors, false);
        }

        foreach (var property in document.RootElement.EnumerateObject())
        {
            given.Add(TopLevelKey(property));
        }

        Flatten(document.RootElement, string.Empty, topLevel: true, values, serverLists, errors);

        if (errors.Count > 0)
        {
            return new UpstreamJsonResult(null, errors, false);
        }

        var upstream = template?.Clone() ?? new UpstreamOptions();
        bool serversGiven = given.Any(key => ServerListKeys.Contains(key.Replace("_", string.Empty, StringComparison.Ordinal), StringComparer.OrdinalIgnoreCase));
        if (serversGiven)
        {
            upstream.Servers.Clear();
            upstream.Clusters.Clear();
            upstream.NamedClusters.Clear();
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        foreach (var (field, message) in CheckupsConfigurationReader.BindUpstreamJson(configuration, upstream, serverLists))
        {
            errors.Add(new UpstreamJsonError(field, message));
        }

        if (errors.Count > 0)
        {
            return new UpstreamJsonResult(null, errors, false);
        }

        bool serversOnly = serversGiven && given.All(key => ServerListKeys.Contains(key.Replace("_", string.Empty, StringComparison.Ordinal), StringComparer.OrdinalIgnoreCase));
        return new UpstreamJsonResult(upstream, errors, serversOnly);
    }

    /// <summary>The option a top-level key names: the cluster keys by the kind of their value, the rest as written.</summary>
    private static string TopLevelKey(JsonProperty property)
    {
        string key = property.Name;
        if (key.Equals("cluster", StringComparison.OrdinalIgnoreCase) || key.Equals("clusters", StringComparison.OrdinalIgnoreCase) || key.Equals("levels", StringComparison.OrdinalIgnoreCase))
        {
            return property.Value.ValueKind == JsonValueKind.Object ? nameof(UpstreamOptions.NamedClusters) : nameof(UpstreamOptions.Clusters);
        }

        return key;
    }

    /// <summary>Turns the JSON into configuration keys and values (<c>Servers:0:Port</c> = <c>80</c>); a key given twice is an error.</summary>
    private static void Flatten(JsonElement element, string path, bool topLevel, List<KeyValuePair<string, string?>> values, Dictionary<string, JsonElement> serverLists, List<UpstreamJsonError> errors)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
                foreach (var property in element.EnumerateObject())
                {
                    string key = topLevel ? TopLevelKey(property) : property.Name;
                    string childPath = Combine(path, key);
                    if (key.Length == 0 || key.Contains(':', StringComparison.Ordinal))
                    {
                        errors.Add(new UpstreamJsonError(childPath, $"'{property.Name}' is not a usable key (empty, or it contains ':')"));
                        continue;
                    }

                    if (!seen.Add(key.Replace("_", string.Empty, StringComparison.Ordinal)))
                    {
                        errors.Add(new UpstreamJsonError(childPath, $"{childPath} is given twice"));
                        continue;
                    }

                    if (property.Value.ValueKind == JsonValueKind.Array && HoldsServerLists(path)
                        && key.Replace("_", string.Empty, StringComparison.Ordinal).Equals(nameof(UpstreamOptions.Servers), StringComparison.OrdinalIgnoreCase))
                    {
                        // A server list: one key marks it, and the binder reads its servers from the JSON itself.
                        values.Add(new KeyValuePair<string, string?>(childPath, string.Empty));
                        serverLists[childPath] = property.Value;
                        continue;
                    }

                    Flatten(property.Value, childPath, topLevel: false, values, serverLists, errors);
                }

                break;
            case JsonValueKind.Array:
                int index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    Flatten(item, Combine(path, index.ToString(CultureInfo.InvariantCulture)), topLevel: false, values, serverLists, errors);
                    index++;
                }

                break;
            case JsonValueKind.String:
                values.Add(new KeyValuePair<string, string?>(path, element.GetString()));
                break;
            case JsonValueKind.Number:
                values.Add(new KeyValuePair<string, string?>(path, element.GetRawText()));
                break;
            case JsonValueKind.True:
                values.Add(new KeyValuePair<string, string?>(path, "true"));
                break;
            case JsonValueKind.False:
                values.Add(new KeyValuePair<string, string?>(path, "false"));
                break;
            default:
                // null: the option stays as it was.
                break;
        }
    }

    /// <summary>Whether the object at <paramref name="path"/> may hold a server list: the upstream, a level or a named cluster.</summary>
    private static bool HoldsServerLists(string path)
    {
        if (path.Length == 0)
        {
            return true;
        }

        int colon = path.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0 || path.IndexOf(':', colon + 1) >= 0)
        {
            return false;
        }

        string head = path[..colon].Replace("_", string.Empty, StringComparison.Ordinal);
        return head.Equals(nameof(UpstreamOptions.Clusters), StringComparison.OrdinalIgnoreCase) || head.Equals(nameof(UpstreamOptions.NamedClusters), StringComparison.OrdinalIgnoreCase);
    }

    private static string Combine(string path, string key) => path.Length == 0 ? key : string.Concat(path, ":", key);

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}

/// <summary>What <see cref="UpstreamJson.Read"/> found: the upstream, or every problem.</summary>
public sealed class UpstreamJsonResult
{
    internal UpstreamJsonResult(UpstreamOptions? upstream, IReadOnlyList<UpstreamJsonError> errors, bool serversOnly)
    {
        Upstream = upstream;
        Errors = errors;
        ServersOnly = serversOnly;
    }

    /// <summary>Gets the upstream read, or <see langword="null"/> when there are errors.</summary>
    public UpstreamOptions? Upstream { get; }

    /// <summary>Gets every problem found; empty when <see cref="Upstream"/> is set.</summary>
    public IReadOnlyList<UpstreamJsonError> Errors { get; }

    /// <summary>Gets whether the JSON gave only servers or clusters (Slardar's <c>{"servers": [...]}</c>), nothing else.</summary>
    public bool ServersOnly { get; }
}

/// <summary>One problem of an upstream's JSON.</summary>
/// <param name="Field">The option's path relative to the upstream, e.g. <c>Servers:0:Port</c>; empty for the whole body.</param>
/// <param name="Message">What is wrong, naming the path.</param>
public sealed record UpstreamJsonError(string Field, string Message);
