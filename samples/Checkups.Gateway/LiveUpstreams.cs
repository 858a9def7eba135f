using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.DependencyInjection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Checkups.Gateway;

/// <summary>
/// The upstreams of <c>Gateway:LiveUpstreams</c>, which change at run time. Each has one owner, never the configuration:
/// without <c>--consul</c>, the admin API (the gateway creates them through it at start, as an operator would); with
/// <c>--consul</c>, a Consul watch per upstream (KV per server), whose template is the upstream's options without the
/// servers. The <c>Checkups</c> section never lists them, so no two sources claim one name.
/// </summary>
internal sealed class LiveUpstreams
{
    private readonly Dictionary<string, UpstreamOptions> _upstreams;
    private readonly IConfigurationSection _section;

    private LiveUpstreams(IConfigurationSection section, Dictionary<string, UpstreamOptions> upstreams)
    {
        _section = section;
        _upstreams = upstreams;
    }

    public IReadOnlyDictionary<string, UpstreamOptions> Upstreams => _upstreams;

    /// <summary>Reads the section strictly: a key that names no option is an error, not silently dropped.</summary>
    /// <exception cref="InvalidOperationException">The section does not bind; the message names the key.</exception>
    public static LiveUpstreams Read(IConfiguration configuration)
    {
        var section = configuration.GetSection(GatewaySettings.LiveUpstreamsSection);
        var upstreams = new Dictionary<string, UpstreamOptions>(StringComparer.OrdinalIgnoreCase);
        foreach (var child in section.GetChildren())
        {
            var options = new UpstreamOptions();
            child.Bind(options, binder => binder.ErrorOnUnknownConfiguration = true);
            upstreams[child.Key] = options;
        }

        return new LiveUpstreams(section, upstreams);
    }

    /// <summary>With <c>--consul</c>: one watch per upstream; the watch owns it (source <c>consul:&lt;name&gt;</c>).</summary>
    public void AddConsulWatches(ICheckupsBuilder checkups, Uri consul)
    {
        foreach (string name in _upstreams.Keys)
        {
            checkups.AddConsul(options =>
            {
                options.Upstream = name;
                options.Addresses.Add(consul.ToString().TrimEnd('/'));

                // Everything but the servers comes from appsettings.json; the servers come from Consul.
                _section.GetSection(name).Bind(options.Template, binder => binder.ErrorOnUnknownConfiguration = true);
                options.Template.Servers.Clear();
                options.Template.Clusters.Clear();
                options.Template.NamedClusters.Clear();
            });
        }
    }

    /// <summary>Without <c>--consul</c>: creates each upstream through the admin API, which then owns it.</summary>
    /// <exception cref="InvalidOperationException">The admin API refused one; the message has its answer.</exception>
    public async Task CreateThroughAdminApiAsync(HttpClient admin)
    {
        foreach (var (name, options) in _upstreams)
        {
            using var content = new StringContent(options.ToJson(), Encoding.UTF8, "application/json");
            using var created = await admin.PutAsync(new Uri($"checkups/upstreams/{Uri.EscapeDataString(name)}", UriKind.Relative), content);
            if (!created.IsSuccessStatusCode)
            {
                throw new InvalidOperationException(
                    $"creating upstream '{name}' through the admin API failed: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
            }
        }
    }

    /// <summary>
    /// The demo's data in Consul: each server of each upstream as a key <c>upstreams/&lt;name&gt;/&lt;host:port&gt;</c>
    /// (nginx-upsync-module's format; a server of level 2 or later is a <c>backup</c>). For its run the demo owns those
    /// prefixes: what was under them is replaced (a key left by an earlier run would add a server that is gone), and
    /// <see cref="ConsulKeys"/> deletes them at the end, keys added by hand meanwhile included.
    /// </summary>
    public async Task<ConsulKeys> PutIntoConsulAsync(Uri consul)
    {
        var keys = new ConsulKeys(consul, _upstreams.Keys);
        try
        {
            await keys.ClearAsync();
            foreach (var (name, options) in _upstreams)
            {
                var levels = options.Clusters.Select((c, i) => (c.Servers, Level: i + 1))
                    .Append((options.Servers, Level: 1))
                    .Concat(options.NamedClusters.Values.Select(c => (c.Servers, Level: 1)));
                foreach (var (servers, level) in levels)
                {
                    foreach (var server in servers)
                    {
                        await keys.PutAsync(name, server.Host, server.Port, ConsulKeys.Value(server, backup: level > 1));
                    }
                }
            }

            return keys;
        }
        catch
        {
            await keys.DisposeAsync();
            throw;
        }
    }
}

/// <summary>The demo's keys in Consul's KV store, under <c>upstreams/&lt;name&gt;/</c> for each live upstream; deleted when disposed.</summary>
internal sealed class ConsulKeys : IAsyncDisposable
{
    private readonly Uri _consul;
    private readonly string[] _upstreams;
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };

    public ConsulKeys(Uri consul, IEnumerable<string> upstreams)
    {
        _consul = consul;
        _upstreams = upstreams.ToArray();
    }

    public static string Value(ServerOptions server, bool backup) => string.Create(
        CultureInfo.InvariantCulture,
        $$"""{"weight": {{server.Weight}}, "max_fails": {{server.MaxFails}}, "fail_timeout": {{server.FailTimeout.TotalSeconds}}{{(backup ? ", \"backup\": 1" : string.Empty)}}}""");

    public async Task PutAsync(string upstream, string host, int port, string value)
    {
        using var content = new StringContent(value, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var put = await _http.PutAsync(Key(upstream, $"{host}:{port.ToString(CultureInfo.InvariantCulture)}"), content);
        put.EnsureSuccessStatusCode();
    }

    public async Task DeleteAsync(string upstream, string host, int port)
    {
        using var deleted = await _http.DeleteAsync(Key(upstream, $"{host}:{port.ToString(CultureInfo.InvariantCulture)}"));
        deleted.EnsureSuccessStatusCode();
    }

    /// <summary>Deletes every key under the upstreams' prefixes.</summary>
    public async Task ClearAsync()
    {
        foreach (string upstream in _upstreams)
        {
            using var deleted = await _http.DeleteAsync(Key(upstream, "?recurse"));
            deleted.EnsureSuccessStatusCode();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await ClearAsync();
        }
        catch (HttpRequestException)
        {
            // The agent went away: nothing left to clean.
        }

        _http.Dispose();
    }

    private Uri Key(string upstream, string rest) => new(_consul, $"v1/kv/upstreams/{Uri.EscapeDataString(upstream)}/{rest}");
}
