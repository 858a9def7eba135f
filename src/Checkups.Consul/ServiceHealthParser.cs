using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text.Json;
using Checkups.Configuration;

namespace Checkups.Consul;

/// <summary>
/// Reads the answer of <c>/v1/health/service/{service}</c>: one server per instance, at <c>Service.Address</c> (else
/// <c>Node.Address</c>) and <c>Service.Port</c>, weighted by a <c>weight=N</c> tag or else <c>Service.Weights.Passing</c>,
/// in the zone a <c>Service.Meta</c> key names. The worst of an instance's checks decides: critical is down, warning is what
/// <see cref="ConsulOptions.WarningAs"/> says.
/// </summary>
internal static class ServiceHealthParser
{
    private const int MaxWeight = 1_000_000;

    /// <summary>The servers, ordered by key so that an answer listing the same instances in another order is the same list.</summary>
    public static List<ServerOptions> Parse(ReadOnlySpan<byte> body, ConsulOptions options, List<string> warnings)
    {
        var servers = new List<ServerOptions>();
        if (body.IsEmpty)
        {
            return servers;
        }

        using var document = JsonDocument.Parse(body.ToArray());
        if (document.RootElement.ValueKind != JsonValueKind.Array)
        {
            throw new ConsulException("the health answer is not a JSON array");
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in document.RootElement.EnumerateArray())
        {
            if (entry.ValueKind != JsonValueKind.Object || !entry.TryGetProperty("Service", out var service) || service.ValueKind != JsonValueKind.Object)
            {
                warnings.Add("an instance without a Service object; skipped");
                continue;
            }

            string id = Text(service, "ID") ?? "?";
            string? address = Text(service, "Address") is { Length: > 0 } own ? own
                : entry.TryGetProperty("Node", out var node) && node.ValueKind == JsonValueKind.Object ? Text(node, "Address") : null;
            int port = service.TryGetProperty("Port", out var p) && p.ValueKind == JsonValueKind.Number && p.TryGetInt32(out int number) ? number : 0;
            if (string.IsNullOrWhiteSpace(address) || port is < 1 or > 65535)
            {
                warnings.Add(string.Create(CultureInfo.InvariantCulture, $"instance '{id}' has no usable address and port ('{address}', {port}); skipped"));
                continue;
            }

            string host = address.StartsWith('[') && address.EndsWith(']') ? address[1..^1] : address;
            if (!seen.Add(string.Create(CultureInfo.InvariantCulture, $"{host}|{port}")))
            {
                warnings.Add(string.Create(CultureInfo.InvariantCulture, $"instance '{id}' is a second instance at {address}:{port}; skipped"));
                continue;
            }

            var server = new ServerOptions
            {
                Host = host,
                Port = port,
                Weight = Weight(service, id, warnings),
                MaxFails = UpsyncKvParser.DefaultMaxFails,
                FailTimeout = TimeSpan.FromSeconds(UpsyncKvParser.DefaultFailTimeoutSeconds),
            };
            if (options.ZoneMetaKey is { } zoneKey && service.TryGetProperty("Meta", out var meta) && meta.ValueKind == JsonValueKind.Object
                && Text(meta, zoneKey) is { } zone && !string.IsNullOrWhiteSpace(zone))
            {
                server.Zone = zone;
            }

            var (worst, check) = WorstCheck(entry);
            if (worst == "critical" || (worst == "warning" && options.WarningAs == ConsulWarningAs.Down))
            {
                server.Down = true;
            }
            else if (worst == "warning" && options.WarningAs == ConsulWarningAs.Unstable)
            {
                server.UnstableReason = $"Consul check '{check}' is warning";
            }

            servers.Add(server);
        }

        servers.Sort(static (a, b) =>
        {
            int byHost = string.CompareOrdinal(a.Host, b.Host);
            return byHost != 0 ? byHost : a.Port.CompareTo(b.Port);
        });
        return servers;
    }

    /// <summary>A <c>weight=N</c> tag, else <c>Weights.Passing</c>, else 1.</summary>
    private static int Weight(JsonElement service, string id, List<string> warnings)
    {
        if (service.TryGetProperty("Tags", out var tags) && tags.ValueKind == JsonValueKind.Array)
        {
            foreach (var tag in tags.EnumerateArray())
            {
                if (tag.ValueKind == JsonValueKind.String && tag.GetString() is { } text && text.StartsWith("weight=", StringComparison.OrdinalIgnoreCase))
                {
                    if (int.TryParse(text.AsSpan(7), NumberStyles.None, CultureInfo.InvariantCulture, out int tagged) && tagged is >= 1 and <= MaxWeight)
                    {
                        return tagged;
                    }

                    warnings.Add($"instance '{id}': tag '{text}' is not a weight from 1 to {MaxWeight}; ignored");
                }
            }
        }

        if (service.TryGetProperty("Weights", out var weights) && weights.ValueKind == JsonValueKind.Object
            && weights.TryGetProperty("Passing", out var passing) && passing.ValueKind == JsonValueKind.Number
            && passing.TryGetInt32(out int weight) && weight is >= 1 and <= MaxWeight)
        {
            return weight;
        }

        return 1;
    }

    /// <summary>The worst status of an instance's checks (node checks included, as Consul counts them) and that check's name.</summary>
    private static (string Status, string Check) WorstCheck(JsonElement entry)
    {
        string worst = "passing";
        string name = string.Empty;
        if (!entry.TryGetProperty("Checks", out var checks) || checks.ValueKind != JsonValueKind.Array)
        {
            return (worst, name);
        }

        foreach (var check in checks.EnumerateArray())
        {
            string status = check.ValueKind == JsonValueKind.Object ? Text(check, "Status") ?? "critical" : "critical";
            if (Rank(status) > Rank(worst))
            {
                worst = status;
                name = Text(check, "Name") ?? Text(check, "CheckID") ?? string.Empty;
            }
        }

        // Consul's statuses are passing, warning and critical (maintenance is a critical check); anything else is not passing.
        return (worst is "passing" or "warning" ? worst : "critical", name);
    }

    private static int Rank(string status) => status switch
    {
        "passing" => 0,
        "warning" => 1,
        _ => 2,
    };

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
