using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Checkups.Configuration;

namespace Checkups.Consul;

/// <summary>
/// nginx-upsync-module's KV format: one key per server, <c>{prefix}{upstream}/{host:port}</c>, whose value is JSON
/// <c>{"weight","max_fails","fail_timeout","down","backup"}</c>. A missing or empty value means the defaults (1, 2, 10,
/// 0, 0); numbers and numeric strings are accepted; a bad field falls back to its default with a warning naming key and
/// field, as upsync does; a key whose last segment is not host:port is skipped with a warning.
/// </summary>
internal static class UpsyncKvParser
{
    public const int DefaultWeight = 1;
    public const int DefaultMaxFails = 2;
    public const int DefaultFailTimeoutSeconds = 10;

    /// <summary>The servers of level 1 and level 2 (<c>backup</c>), in key order.</summary>
    public static (List<ServerOptions> Primary, List<ServerOptions> Backup) Parse(ReadOnlySpan<byte> body, string keyPrefix, List<string> warnings)
    {
        var primary = new List<ServerOptions>();
        var backup = new List<ServerOptions>();
        if (body.IsEmpty)
        {
            return (primary, backup);
        }

        using var document = JsonDocument.Parse(body.ToArray());
        if (document.RootElement.ValueKind != JsonValueKind.Array)
        {
            throw new ConsulException("the KV answer is not a JSON array");
        }

        foreach (var entry in document.RootElement.EnumerateArray())
        {
            string key = entry.TryGetProperty("Key", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString()! : string.Empty;
            if (!key.StartsWith(keyPrefix, StringComparison.Ordinal))
            {
                continue;
            }

            string segment = key[keyPrefix.Length..];
            if (segment.Length == 0)
            {
                // The folder key itself (created by the UI): not a server.
                continue;
            }

            if (segment.Contains('/', StringComparison.Ordinal) || !TryParseHostPort(segment, out string host, out int port))
            {
                warnings.Add($"key '{key}': '{segment}' is not host:port; skipped");
                continue;
            }

            byte[] value = entry.TryGetProperty("Value", out var v) && v.ValueKind == JsonValueKind.String ? v.GetBytesFromBase64() : Array.Empty<byte>();
            var server = new ServerOptions
            {
                Host = host,
                Port = port,
                Weight = DefaultWeight,
                MaxFails = DefaultMaxFails,
                FailTimeout = TimeSpan.FromSeconds(DefaultFailTimeoutSeconds),
            };
            bool isBackup = false;
            if (!IsBlank(value))
            {
                isBackup = ReadFields(value, key, server, warnings);
            }

            (isBackup ? backup : primary).Add(server);
        }

        return (primary, backup);
    }

    /// <summary><c>host:port</c>, <c>[v6]:port</c>; the host an IP address or a DNS name.</summary>
    internal static bool TryParseHostPort(string text, out string host, out int port)
    {
        host = string.Empty;
        port = 0;
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
        {
            return false;
        }

        string part = text[..colon];
        if (part.StartsWith('['))
        {
            if (!part.EndsWith(']') || !IPAddress.TryParse(part[1..^1], out var v6) || v6.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                return false;
            }

            host = part[1..^1];
            return true;
        }

        if (IPAddress.TryParse(part, out var address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            host = part;
            return true;
        }

        if (Uri.CheckHostName(part) == UriHostNameType.Dns)
        {
            host = part;
            return true;
        }

        return false;
    }

    private static bool IsBlank(byte[] value)
    {
        foreach (byte b in value)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Reads the value's fields into <paramref name="server"/>; returns <c>backup</c>.</summary>
    private static bool ReadFields(byte[] value, string key, ServerOptions server, List<string> warnings)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(value);
        }
        catch (JsonException)
        {
            warnings.Add($"key '{key}': the value is not JSON ('{Preview(value)}'); defaults used");
            return false;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                warnings.Add($"key '{key}': the value is not a JSON object; defaults used");
                return false;
            }

            server.Weight = Field(root, key, "weight", DefaultWeight, 1, 1_000_000, warnings);
            server.MaxFails = Field(root, key, "max_fails", DefaultMaxFails, 0, 1_000_000, warnings);
            server.FailTimeout = TimeSpan.FromSeconds(Field(root, key, "fail_timeout", DefaultFailTimeoutSeconds, 0, 86_400, warnings));
            server.Down = Field(root, key, "down", 0, 0, 1, warnings) == 1;
            return Field(root, key, "backup", 0, 0, 1, warnings) == 1;
        }
    }

    private static int Field(JsonElement root, string key, string name, int fallback, int min, int max, List<string> warnings)
    {
        if (!root.TryGetProperty(name, out var field) || field.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }

        int value;
        bool ok = field.ValueKind switch
        {
            JsonValueKind.Number => field.TryGetInt32(out value),
            JsonValueKind.String => int.TryParse(field.GetString(), NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite, CultureInfo.InvariantCulture, out value),
            JsonValueKind.True => (value = 1) == 1,
            JsonValueKind.False => (value = 0) == 0,
            _ => (value = 0) == 1,
        };
        if (!ok || value < min || value > max)
        {
            warnings.Add(string.Create(CultureInfo.InvariantCulture, $"key '{key}': field '{name}' is invalid ({Preview(Encoding.UTF8.GetBytes(field.GetRawText()))}); default {fallback} used"));
            return fallback;
        }

        return value;
    }

    private static string Preview(byte[] value)
    {
        string text = Encoding.UTF8.GetString(value, 0, Math.Min(value.Length, 60));
        var printable = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            printable.Append(char.IsControl(c) ? '?' : c);
        }

        return value.Length > 60 ? printable + "…" : printable.ToString();
    }
}
