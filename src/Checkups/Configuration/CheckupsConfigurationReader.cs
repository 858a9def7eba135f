using System;
using System.Collections.Generic;
using Microsoft.Extensions.Configuration;

namespace Checkups.Configuration;

/// <summary>
/// Binds <see cref="CheckupsOptions"/> from configuration strictly. The configuration binder drops a dictionary or list
/// element that fails to convert (a port of "eighty") without a word, which would silently lose a server or a whole
/// upstream; this reader binds every element on its own as well, so such a value is an error naming its path.
/// </summary>
internal static class CheckupsConfigurationReader
{
    public static CheckupsOptions Read(IConfiguration configuration)
    {
        var options = new CheckupsOptions();
        Bind(configuration, options);
        return options;
    }

    public static void Bind(IConfiguration configuration, CheckupsOptions options)
    {
        var errors = new List<string>();
        Try(() => configuration.Bind(options), errors);
        foreach (var upstream in configuration.GetSection(nameof(CheckupsOptions.Upstreams)).GetChildren())
        {
            Try(() => upstream.Get<UpstreamOptions>(), errors);
            CheckServers(upstream.GetSection(nameof(UpstreamOptions.Servers)), errors);
            foreach (var cluster in upstream.GetSection(nameof(UpstreamOptions.Clusters)).GetChildren())
            {
                CheckServers(cluster.GetSection(nameof(ClusterOptions.Servers)), errors);
            }

            foreach (var cluster in upstream.GetSection(nameof(UpstreamOptions.NamedClusters)).GetChildren())
            {
                CheckServers(cluster.GetSection(nameof(ClusterOptions.Servers)), errors);
            }
        }

        if (errors.Count > 0)
        {
            throw new CheckupsValidationException(errors);
        }
    }

    private static void CheckServers(IConfigurationSection servers, List<string> errors)
    {
        foreach (var server in servers.GetChildren())
        {
            Try(() => server.Get<ServerOptions>(), errors);
        }
    }

    private static void Try(Action bind, List<string> errors)
    {
        try
        {
            bind();
        }
        catch (InvalidOperationException ex)
        {
            // "Failed to convert configuration value at '<path>' to type '<type>'."
            if (!errors.Contains(ex.Message))
            {
                errors.Add(ex.Message);
            }
        }
    }
}
