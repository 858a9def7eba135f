using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.Configuration;

namespace Checkups.Gateway.Demo;

/// <summary>
/// The demo: one backend for each server the configuration lists (under <c>Checkups:Upstreams</c> and
/// <c>Gateway:LiveUpstreams</c>), and a spare one that no upstream lists, to move an upstream to at run time.
/// <see cref="Configuration"/> points each configured server at its backend; it is added over appsettings.json.
/// </summary>
internal sealed class DemoBackends : IAsyncDisposable
{
    private readonly List<DemoBackend> _backends = new();

    private DemoBackends()
    {
    }

    public IReadOnlyList<DemoBackend> All => _backends;

    /// <summary>Gets the backend that no upstream lists at start.</summary>
    public DemoBackend Spare { get; private set; } = null!;

    /// <summary>Gets the configuration keys that point the configured servers at the backends (host and port).</summary>
    public Dictionary<string, string?> Configuration { get; } = new(StringComparer.OrdinalIgnoreCase);

    public IEnumerable<DemoBackend> Of(string upstream, int? level = null) =>
        _backends.Where(b => string.Equals(b.Upstream, upstream, StringComparison.OrdinalIgnoreCase) && (level is null || b.Level == level));

    public static async Task<DemoBackends> StartAsync(IConfiguration configuration)
    {
        var demo = new DemoBackends();
        try
        {
            foreach (string section in new[] { "Checkups:Upstreams", GatewaySettings.LiveUpstreamsSection })
            {
                foreach (var upstream in configuration.GetSection(section).GetChildren())
                {
                    await demo.StartServersAsync(upstream.GetSection("Servers"), upstream.Key, upstream.Key, 1);
                    foreach (var level in upstream.GetSection("Clusters").GetChildren())
                    {
                        int number = int.Parse(level.Key, CultureInfo.InvariantCulture) + 1;
                        string prefix = number == 1 ? upstream.Key : $"{upstream.Key}-level{number}";
                        await demo.StartServersAsync(level.GetSection("Servers"), prefix, upstream.Key, number);
                    }

                    foreach (var named in upstream.GetSection("NamedClusters").GetChildren())
                    {
                        await demo.StartServersAsync(named.GetSection("Servers"), $"{upstream.Key}-{named.Key}", upstream.Key, 1);
                    }
                }
            }

            demo.Spare = await DemoBackend.StartAsync("spare", string.Empty, 0);
            demo._backends.Add(demo.Spare);
            return demo;
        }
        catch
        {
            await demo.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var backend in _backends)
        {
            await backend.DisposeAsync();
        }

        _backends.Clear();
    }

    private async Task StartServersAsync(IConfigurationSection servers, string prefix, string upstream, int level)
    {
        int n = 0;
        foreach (var server in servers.GetChildren())
        {
            var backend = await DemoBackend.StartAsync($"{prefix}-{++n}", upstream, level);
            _backends.Add(backend);
            Configuration[server.Path + ":Host"] = "127.0.0.1";
            Configuration[server.Path + ":Port"] = backend.Port.ToString(CultureInfo.InvariantCulture);
        }
    }
}
