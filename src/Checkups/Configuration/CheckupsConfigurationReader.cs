using System;
using System.Collections;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Reflection;
using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace Checkups.Configuration;

/// <summary>
/// Binds <see cref="CheckupsOptions"/> from configuration strictly and fast. It never throws: every value that does not
/// convert (a port of "eighty") and every key that names no option (a misspelled <c>MaxFail</c>) is recorded with its
/// configuration path in <see cref="CheckupsOptions.Binding"/>, and the registry rejects the whole configuration for
/// them, where the configuration binder would silently drop the element or ignore the key.
/// </summary>
/// <remarks>
/// Listing a section's children costs a scan of every key of every provider, so a reader that lists the children of each
/// of 10,000 servers does 10,000 such scans. This one lists each server list once and reads a server's known values by
/// their keys; it lists a server's own children only when the server may hold more than those values (metadata, or an
/// unknown key), which it tells by counting the keys below the list, provider by provider, when it can reach the
/// configuration's providers.
/// </remarks>
internal sealed class CheckupsConfigurationReader
{
    private static readonly ConcurrentDictionary<Type, PropertyInfo[]> Properties = new();
    private static readonly PropertyInfo[] ServerScalars = typeof(ServerOptions).GetProperties()
        .Where(p => p.SetMethod is { IsPublic: true }).ToArray();

    private readonly IConfigurationRoot? _root;
    private readonly List<string> _errors;
    private readonly List<KeyValuePair<string, string>>? _fields;
    private readonly bool _json;
    private readonly IReadOnlyDictionary<string, JsonElement>? _jsonServers;

    private CheckupsConfigurationReader(IConfigurationRoot? root, List<string> errors, List<KeyValuePair<string, string>>? fields = null, bool json = false, IReadOnlyDictionary<string, JsonElement>? jsonServers = null)
    {
        _jsonServers = jsonServers;
        _root = root;
        _errors = errors;
        _fields = fields;
        _json = json;
    }

    /// <summary>Binds <paramref name="configuration"/> (the Checkups section) into <paramref name="options"/> and records how it went.</summary>
    /// <param name="configuration">The Checkups section, or a configuration root holding the options at its top.</param>
    /// <param name="root">The root <paramref name="configuration"/> belongs to, when known: makes large server lists fast.</param>
    /// <param name="options">The options to bind into; collections are appended to, as the configuration binder does.</param>
    public static void Bind(IConfiguration configuration, IConfigurationRoot? root, CheckupsOptions options)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(options);
        var binding = options.Binding ??= new ConfigurationBinding();
        var children = configuration.GetChildren().ToList();
        binding.Path = configuration is IConfigurationSection section ? section.Path : string.Empty;
        binding.SectionPresent |= children.Count > 0 || (configuration is IConfigurationSection { Value: not null });
        binding.UpstreamsPresent |= children.Exists(c => string.Equals(c.Key, nameof(CheckupsOptions.Upstreams), StringComparison.OrdinalIgnoreCase));
        var reader = new CheckupsConfigurationReader(root ?? configuration as IConfigurationRoot, binding.Errors);
        reader.BindObject(children, options, binding.Path);
    }

    /// <summary>
    /// Binds one upstream read from JSON (<see cref="UpstreamJson"/>): keys match option names ignoring case and
    /// underscores (<c>max_fails</c> is <c>MaxFails</c>), a number where a time span belongs is seconds, 0 and 1 are
    /// booleans, and a collection the JSON gives replaces the one in <paramref name="upstream"/>.
    /// </summary>
    /// <param name="configuration">The upstream's keys and values, but for its server lists.</param>
    /// <param name="upstream">The options to bind into.</param>
    /// <param name="serverLists">
    /// The server lists as JSON arrays, by configuration path (<c>servers</c>, <c>Clusters:0:servers</c>): bound straight
    /// from the JSON, in one pass, where a key per value would cost a scan of every key (10,000 servers: 50,000 keys).
    /// </param>
    /// <returns>Every problem, with the option's path relative to the upstream (e.g. <c>Servers:0:Port</c>).</returns>
    public static List<KeyValuePair<string, string>> BindUpstreamJson(IConfiguration configuration, UpstreamOptions upstream, IReadOnlyDictionary<string, JsonElement> serverLists)
    {
        var fields = new List<KeyValuePair<string, string>>();
        var reader = new CheckupsConfigurationReader(null, new List<string>(), fields, json: true, serverLists);
        reader.BindObject(configuration.GetChildren(), upstream, string.Empty);
        return fields;
    }

    private void Error(string path, string text)
    {
        _errors.Add(text);
        _fields?.Add(new KeyValuePair<string, string>(path, text));
    }

    private bool Matches(PropertyInfo property, string key) =>
        _json
            ? string.Equals(property.Name, key.Replace("_", string.Empty, StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase)
            : string.Equals(property.Name, key, StringComparison.OrdinalIgnoreCase);

    private void BindObject(IEnumerable<IConfigurationSection> children, object target, string path)
    {
        var properties = Properties.GetOrAdd(target.GetType(), static t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance));
        foreach (var child in children)
        {
            var property = Array.Find(properties, p => Matches(p, child.Key));
            if (property is null)
            {
                string unknownPath = Combine(path, child.Key);
                Error(unknownPath, UnknownKey(unknownPath, child.Key, properties));
                continue;
            }

            // JSON paths name the option as .NET does, whatever spelling the key had.
            BindProperty(child, property, target, Combine(path, _json ? property.Name : child.Key));
        }
    }

    private void BindProperty(IConfigurationSection section, PropertyInfo property, object target, string path)
    {
        var type = property.PropertyType;
        if (IsScalar(type))
        {
            if (section.Value is null)
            {
                // An object where a value belongs ({"Port": {"x": 1}}), or an empty JSON object: the value is not given.
                if (section.GetChildren().Any())
                {
                    Error(path, Invariant($"{path} must be a single value, not a section"));
                }

                return;
            }

            if (TryConvert(section.Value, type, _json, out object? value))
            {
                property.SetValue(target, value);
            }
            else
            {
                Error(path, Invariant($"{path} must be {Describe(type, _json)} (was '{section.Value}')"));
            }

            return;
        }

        object? current = property.GetValue(target);
        if (current is null)
        {
            return;
        }

        if (section.Value is { Length: > 0 } stray)
        {
            Error(path, Invariant($"{path} must be a section, not a single value (was '{stray}')"));
            return;
        }

        if (_json)
        {
            // A collection the JSON gives is the whole collection, not an addition to the template's.
            if (current is IList given)
            {
                given.Clear();
            }
            else if (current is IDictionary map)
            {
                map.Clear();
            }
        }

        if (current is IList<ServerOptions> servers)
        {
            BindServers(section, servers, path);
        }
        else if (current is IList list)
        {
            BindList(section, list, ElementType(type), path);
        }
        else if (current is IDictionary dictionary)
        {
            BindDictionary(section, dictionary, ElementType(type), path);
        }
        else
        {
            BindObject(section.GetChildren(), current, path);
        }
    }

    private void BindList(IConfigurationSection section, IList list, Type element, string path)
    {
        foreach (var child in section.GetChildren())
        {
            string childPath = Combine(path, child.Key);
            if (!int.TryParse(child.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                Error(childPath, Invariant($"{childPath} is not a list index (lists are numbered from 0)"));
                continue;
            }

            if (TryElement(child, element, childPath, out object? value))
            {
                list.Add(value);
            }
        }
    }

    private void BindDictionary(IConfigurationSection section, IDictionary dictionary, Type element, string path)
    {
        foreach (var child in section.GetChildren())
        {
            string childPath = Combine(path, child.Key);
            if (!IsScalar(element) && dictionary.Contains(child.Key) && dictionary[child.Key] is { } existing)
            {
                // Merge into an entry set before (by code or an earlier source), as the configuration binder does.
                BindObjectOrCollection(child, existing, childPath);
            }
            else if (TryElement(child, element, childPath, out object? value))
            {
                dictionary[child.Key] = value;
            }
        }
    }

    private bool TryElement(IConfigurationSection child, Type element, string path, out object? value)
    {
        value = null;
        if (IsScalar(element))
        {
            if (child.Value is not null && TryConvert(child.Value, element, _json, out value))
            {
                return true;
            }

            Error(path, child.Value is null
                ? Invariant($"{path} must be a single value, not a section")
                : Invariant($"{path} must be {Describe(element, _json)} (was '{child.Value}')"));
            return false;
        }

        value = Activator.CreateInstance(element)!;
        BindObjectOrCollection(child, value, path);
        return true;
    }

    private void BindObjectOrCollection(IConfigurationSection section, object target, string path)
    {
        if (section.Value is { Length: > 0 } stray)
        {
            Error(path, Invariant($"{path} must be a section, not a single value (was '{stray}')"));
            return;
        }

        BindObject(section.GetChildren(), target, path);
    }

    /// <summary>Binds a server list, reading each server's values by key and listing its children only when it may hold more.</summary>
    private void BindServers(IConfigurationSection section, IList<ServerOptions> servers, string path)
    {
        if (_jsonServers is not null && _jsonServers.TryGetValue(section.Path, out var array))
        {
            BindServers(array, servers, path);
            return;
        }

        var counts = DescendantCounts(section.Path);
        foreach (var child in section.GetChildren())
        {
            string childPath = Combine(path, child.Key);
            if (!int.TryParse(child.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                Error(childPath, Invariant($"{childPath} is not a list index (lists are numbered from 0)"));
                continue;
            }

            var server = new ServerOptions();
            servers.Add(server);
            int found = 0;
            if (counts is not null && counts.TryGetValue(child.Key, out int expected))
            {
                foreach (var property in ServerScalars)
                {
                    if (child[property.Name] is { } value)
                    {
                        found++;
                        if (TryConvert(value, property.PropertyType, _json, out object? converted))
                        {
                            property.SetValue(server, converted);
                        }
                        else
                        {
                            string valuePath = Combine(childPath, property.Name);
                            Error(valuePath, Invariant($"{valuePath} must be {Describe(property.PropertyType, _json)} (was '{value}')"));
                        }
                    }
                }

                if (found == expected)
                {
                    continue;
                }

                // More keys below this server than its known values: metadata, an unknown key, or a key given by two providers.
                server = new ServerOptions();
                servers[^1] = server;
                _errors.RemoveAll(e => e.StartsWith(childPath + ":", StringComparison.Ordinal));
                _fields?.RemoveAll(e => e.Key.StartsWith(childPath + ":", StringComparison.Ordinal));
            }

            BindObjectOrCollection(child, server, childPath);
        }
    }

    /// <summary>
    /// Binds a server list straight from its JSON array, with the rules and messages of the keys-and-values path: option
    /// names ignoring case and underscores, values converted as text, a null leaves the value (or the server) out.
    /// </summary>
    private void BindServers(JsonElement array, IList<ServerOptions> servers, string path)
    {
        var known = Properties.GetOrAdd(typeof(ServerOptions), static t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance));
        int index = -1;
        foreach (var item in array.EnumerateArray())
        {
            index++;
            string childPath = Combine(path, index.ToString(CultureInfo.InvariantCulture));
            if (item.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            if (item.ValueKind != JsonValueKind.Object)
            {
                Error(childPath, item.ValueKind == JsonValueKind.Array
                    ? Invariant($"{childPath} must be a server's options, not a list")
                    : Invariant($"{childPath} must be a section, not a single value (was '{JsonText(item)}')"));
                continue;
            }

            var server = new ServerOptions();
            servers.Add(server);
            ulong given = 0;
            foreach (var value in item.EnumerateObject())
            {
                int found = Array.FindIndex(known, p => NameMatchesJsonKey(p.Name, value.Name));
                if (found < 0)
                {
                    string unknownPath = Combine(childPath, value.Name);
                    Error(unknownPath, UnknownKey(unknownPath, value.Name, known));
                    continue;
                }

                var property = known[found];
                string valuePath = Combine(childPath, property.Name);
                if ((given & (1UL << found)) != 0)
                {
                    Error(valuePath, Invariant($"{Combine(childPath, value.Name)} is given twice"));
                    continue;
                }

                given |= 1UL << found;
                if (property.PropertyType == typeof(IDictionary<string, string>))
                {
                    BindMetadata(value.Value, server.Metadata, valuePath);
                }
                else if (value.Value.ValueKind is JsonValueKind.Object or JsonValueKind.Array)
                {
                    if (value.Value.ValueKind == JsonValueKind.Object ? value.Value.EnumerateObject().Any() : value.Value.GetArrayLength() > 0)
                    {
                        Error(valuePath, Invariant($"{valuePath} must be a single value, not a section"));
                    }
                }
                else if (JsonText(value.Value) is { } text)
                {
                    if (TryConvert(text, property.PropertyType, json: true, out object? converted))
                    {
                        property.SetValue(server, converted);
                    }
                    else
                    {
                        Error(valuePath, Invariant($"{valuePath} must be {Describe(property.PropertyType, json: true)} (was '{text}')"));
                    }
                }
            }
        }
    }

    private void BindMetadata(JsonElement element, IDictionary<string, string> metadata, string path)
    {
        if (element.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            Error(path, Invariant($"{path} must be a section, not a single value (was '{JsonText(element)}')"));
            return;
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in element.EnumerateObject())
        {
            string entryPath = Combine(path, entry.Name);
            if (entry.Name.Length == 0 || entry.Name.Contains(':', StringComparison.Ordinal))
            {
                Error(entryPath, Invariant($"'{entry.Name}' is not a usable key (empty, or it contains ':')"));
            }
            else if (!seen.Add(entry.Name))
            {
                Error(entryPath, Invariant($"{entryPath} is given twice"));
            }
            else if (entry.Value.ValueKind is JsonValueKind.Object or JsonValueKind.Array)
            {
                Error(entryPath, Invariant($"{entryPath} must be a single value, not a section"));
            }
            else if (JsonText(entry.Value) is { } text)
            {
                metadata[entry.Name] = text;
            }
        }
    }

    /// <summary>A JSON scalar as configuration holds it: a string's text, a number as written, true or false; null for null.</summary>
    private static string? JsonText(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number => element.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Null => null,
        _ => element.GetRawText(),
    };

    /// <summary>Whether a JSON key names an option: the same letters ignoring case, underscores skipped (<c>max_fails</c> is <c>MaxFails</c>).</summary>
    private static bool NameMatchesJsonKey(string option, string key)
    {
        int at = 0;
        foreach (char c in key)
        {
            if (c == '_')
            {
                continue;
            }

            if (at == option.Length || char.ToUpperInvariant(c) != char.ToUpperInvariant(option[at]))
            {
                return false;
            }

            at++;
        }

        return at == option.Length;
    }

    /// <summary>How many keys each provider holds below each child of <paramref name="path"/>; null when the providers are out of reach.</summary>
    private Dictionary<string, int>? DescendantCounts(string path)
    {
        if (_root is null)
        {
            return null;
        }

        var counts = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var provider in _root.Providers)
        {
            // Only ConfigurationProvider lists one child key per key below the path; others (a chained configuration)
            // may list each child once, which would hide a server's extra keys: read every server's keys instead.
            if (provider is not ConfigurationProvider)
            {
                return null;
            }

            foreach (string segment in provider.GetChildKeys(Array.Empty<string>(), path))
            {
                counts[segment] = counts.GetValueOrDefault(segment) + 1;
            }
        }

        return counts;
    }

    private static bool IsScalar(Type type)
    {
        var inner = Nullable.GetUnderlyingType(type) ?? type;
        return inner == typeof(string) || inner == typeof(int) || inner == typeof(bool) || inner == typeof(double) || inner == typeof(TimeSpan);
    }

    private static Type ElementType(Type collection)
    {
        var arguments = collection.GetGenericArguments();
        return arguments[^1];
    }

    private static bool TryConvert(string text, Type type, bool json, out object? value)
    {
        var inner = Nullable.GetUnderlyingType(type);
        if (inner is not null && text.Length == 0)
        {
            value = null;
            return true;
        }

        inner ??= type;
        bool ok;
        if (inner == typeof(string))
        {
            value = text;
            return true;
        }
        else if (inner == typeof(int))
        {
            ok = int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int number);
            value = number;
        }
        else if (inner == typeof(bool))
        {
            // JSON from upsync and Slardar writes flags as 0 and 1.
            ok = bool.TryParse(text, out bool flag) || (json && text is "0" or "1");
            value = flag || text == "1";
        }
        else if (inner == typeof(double))
        {
            ok = double.TryParse(text, NumberStyles.Float | NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out double number);
            value = number;
        }
        else if (json && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds))
        {
            // lua-resty-checkups' JSON gives times as seconds (fail_timeout 10); a plain number is never days here.
            ok = double.IsFinite(seconds) && Math.Abs(seconds) <= TimeSpan.MaxValue.TotalSeconds;
            value = ok ? TimeSpan.FromSeconds(seconds) : TimeSpan.Zero;
        }
        else
        {
            ok = TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span);
            value = span;
        }

        return ok;
    }

    private static string Describe(Type type, bool json = false)
    {
        var inner = Nullable.GetUnderlyingType(type) ?? type;
        return inner == typeof(int) ? "a whole number"
            : inner == typeof(bool) ? (json ? "true, false, 0 or 1" : "true or false")
            : inner == typeof(double) ? "a number"
            : inner == typeof(TimeSpan) ? (json ? "seconds, or a time span such as 00:00:05" : "a time span such as 00:00:05")
            : "text";
    }

    private static string UnknownKey(string path, string key, PropertyInfo[] properties)
    {
        string? closest = null;
        int best = int.MaxValue;
        foreach (var property in properties)
        {
            int distance = EditDistance(key.ToUpperInvariant(), property.Name.ToUpperInvariant());
            if (distance < best)
            {
                (best, closest) = (distance, property.Name);
            }
        }

        string known = string.Join(", ", properties.Select(p => p.Name));
        return best <= 2
            ? Invariant($"{path} is not a known option (did you mean {closest}?)")
            : Invariant($"{path} is not a known option; known here: {known}");
    }

    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    private static string Combine(string path, string key) => path.Length == 0 ? key : string.Concat(path, ":", key);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>What binding from configuration found, beside the values: problems, and whether the section was there at all.</summary>
internal sealed class ConfigurationBinding
{
    /// <summary>Gets every value that did not convert and every unknown key, each with its configuration path.</summary>
    public List<string> Errors { get; } = new();

    /// <summary>Gets or sets the path of the section bound (empty for a root).</summary>
    public string Path { get; set; } = string.Empty;

    /// <summary>Gets or sets whether the section held anything; absent means a file deleted, emptied or truncated.</summary>
    public bool SectionPresent { get; set; }

    /// <summary>Gets or sets whether the section named <c>Upstreams</c>, even empty: the explicit way to remove them all.</summary>
    public bool UpstreamsPresent { get; set; }
}
