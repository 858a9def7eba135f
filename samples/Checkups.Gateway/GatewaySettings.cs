using System;
using System.Collections.Generic;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;

namespace Checkups.Gateway;

/// <summary>The gateway's own settings (section <c>Gateway</c>), read once at start; every problem is reported at once.</summary>
internal sealed class GatewaySettings
{
    public const string SectionName = "Gateway";

    /// <summary>The upstreams that change at run time: owned by the admin API, or by Consul with <c>--consul</c>.</summary>
    public const string LiveUpstreamsSection = SectionName + ":LiveUpstreams";

    /// <summary>Gets the gateway's port on 127.0.0.1; 0 for a free one.</summary>
    public int Port { get; private init; }

    /// <summary>Gets the admin API's port on 127.0.0.1; 0 for a free one.</summary>
    public int AdminPort { get; private init; }

    /// <summary>Gets the bearer token of the admin API.</summary>
    public string AdminToken { get; private init; } = string.Empty;

    /// <summary>Gets whether the token was made up at start (nobody chose it, so it is printed).</summary>
    public bool AdminTokenGenerated { get; private init; }

    /// <summary>Gets the Consul agent that owns the live upstreams; <see langword="null"/> without <c>--consul</c>.</summary>
    public Uri? Consul { get; private init; }

    public static GatewaySettings Read(IConfiguration configuration, out List<string> errors)
    {
        var section = configuration.GetSection(SectionName);
        errors = new List<string>();
        int port = ReadPort(section, "Port", errors);
        int adminPort = ReadPort(section, "AdminPort", errors);
        if (port != 0 && port == adminPort)
        {
            errors.Add($"Gateway:Port and Gateway:AdminPort must differ (both {port}): the admin API has a port of its own");
        }

        Uri? consul = null;
        if (section["Consul"] is { Length: > 0 } address
            && (!Uri.TryCreate(address.TrimEnd('/'), UriKind.Absolute, out consul) || consul.Scheme is not ("http" or "https")))
        {
            errors.Add($"Gateway:Consul must be the agent's http(s) address, e.g. http://127.0.0.1:8500 (was '{address}')");
            consul = null;
        }

        string? token = section["AdminToken"];
        if (token is not null && (token.Length == 0 || token.Trim() != token || token.Contains(' ', StringComparison.Ordinal)))
        {
            errors.Add("Gateway:AdminToken must be a word without spaces (it is sent as 'Authorization: Bearer <token>')");
        }

        return new GatewaySettings
        {
            Port = port,
            AdminPort = adminPort,
            AdminToken = token ?? RandomNumberGenerator.GetHexString(32, lowercase: true),
            AdminTokenGenerated = token is null,
            Consul = consul,
        };
    }

    private static int ReadPort(IConfigurationSection section, string key, List<string> errors)
    {
        string? text = section[key];
        if (text is null)
        {
            return 0;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
        {
            errors.Add($"Gateway:{key} must be a port from 0 (a free one) to 65535 (was '{text}')");
            return 0;
        }

        return port;
    }
}
