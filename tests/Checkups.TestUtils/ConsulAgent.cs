using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Net.Http.Json;
using System.Text;
using System.Threading.Tasks;

namespace Checkups.TestUtils;

/// <summary>
/// A real Consul agent (<c>consul agent -dev</c>, in memory) bound to 127.0.0.1 on free ports, started for the tests
/// and stopped by its PID. The binary comes from <c>CHECKUPS_CONSUL</c> or the <c>.tools/consul</c> folder that
/// <c>./test.sh</c> fills from Debian bullseye's consul package.
/// </summary>
public class ConsulAgent : IAsyncLifetime
{
    private ServerProcess? _process;
    private string? _directory;

    /// <summary>Gets the ACL master token when the agent denies by default; <see langword="null"/> without ACLs.</summary>
    public virtual string? MasterToken => null;

    public int HttpPort { get; private set; }

    public string Address => $"http://127.0.0.1:{HttpPort}";

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    public async Task InitializeAsync()
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await StartOnceAsync();
                return;
            }
            catch (PortTakenException) when (attempt < 3)
            {
            }
        }
    }

    public async Task DisposeAsync()
    {
        await StopAsync();
        Http.Dispose();
    }

    /// <summary>Stops the agent by its PID; its data (in memory) is gone.</summary>
    public async Task StopAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
            _process = null;
        }

        if (_directory is not null)
        {
            Directory.Delete(_directory, recursive: true);
            _directory = null;
        }
    }

    /// <summary>Starts a new agent on the same HTTP port, with empty data: its index starts again from the beginning.</summary>
    public Task RestartAsync() => StartOnceAsync(HttpPort);

    public async Task PutAsync(string key, string value)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"{Address}/v1/kv/{key}") { Content = new StringContent(value, Encoding.UTF8) };
        using var response = await SendAsync(request);
        response.EnsureSuccessStatusCode();
    }

    public async Task DeleteAsync(string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"{Address}/v1/kv/{key}");
        using var response = await SendAsync(request);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Registers a service instance on this agent with a TTL check <c>{id}-ttl</c>, passing at first.</summary>
    public async Task RegisterServiceAsync(string id, string name, int port, string? address = "127.0.0.1", string[]? tags = null, IDictionary<string, string>? meta = null, int passingWeight = 1)
    {
        var body = new Dictionary<string, object?>
        {
            ["ID"] = id,
            ["Name"] = name,
            ["Address"] = address,
            ["Port"] = port,
            ["Tags"] = tags ?? Array.Empty<string>(),
            ["Meta"] = meta ?? new Dictionary<string, string>(),
            ["Weights"] = new Dictionary<string, int> { ["Passing"] = passingWeight, ["Warning"] = 1 },
            ["Check"] = new Dictionary<string, string> { ["CheckID"] = id + "-ttl", ["Name"] = id + " ttl", ["TTL"] = "10m", ["Status"] = "passing" },
        };
        using var request = new HttpRequestMessage(HttpMethod.Put, $"{Address}/v1/agent/service/register") { Content = JsonContent.Create(body) };
        using var response = await SendAsync(request);
        response.EnsureSuccessStatusCode();
    }

    private readonly Dictionary<string, string> _policyIds = new(StringComparer.Ordinal);

    /// <summary>Creates an ACL policy with <paramref name="rules"/> and a token holding it; returns the token's secret.</summary>
    public async Task<string> CreateTokenAsync(string policy, string rules)
    {
        using (var request = new HttpRequestMessage(HttpMethod.Put, $"{Address}/v1/acl/policy") { Content = JsonContent.Create(new Dictionary<string, string> { ["Name"] = policy, ["Rules"] = rules }) })
        using (var response = await SendAsync(request))
        {
            response.EnsureSuccessStatusCode();
            using var created = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            _policyIds[policy] = created.RootElement.GetProperty("ID").GetString()!;
        }

        var body = new Dictionary<string, object> { ["Policies"] = new[] { new Dictionary<string, string> { ["Name"] = policy } } };
        using var tokenRequest = new HttpRequestMessage(HttpMethod.Put, $"{Address}/v1/acl/token") { Content = JsonContent.Create(body) };
        using var tokenResponse = await SendAsync(tokenRequest);
        tokenResponse.EnsureSuccessStatusCode();
        using var token = System.Text.Json.JsonDocument.Parse(await tokenResponse.Content.ReadAsStringAsync());
        return token.RootElement.GetProperty("SecretID").GetString()!;
    }

    /// <summary>Replaces the rules of a policy made by <see cref="CreateTokenAsync"/>: its tokens' access changes at once.</summary>
    public async Task UpdatePolicyAsync(string policy, string rules)
    {
        var body = new Dictionary<string, string> { ["ID"] = _policyIds[policy], ["Name"] = policy, ["Rules"] = rules };
        using var request = new HttpRequestMessage(HttpMethod.Put, $"{Address}/v1/acl/policy/{_policyIds[policy]}") { Content = JsonContent.Create(body) };
        using var response = await SendAsync(request);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Waits (bounded) until <paramref name="token"/> no longer sees anything under <paramref name="prefix"/>: a policy change is in force.</summary>
    public async Task WaitUntilHiddenAsync(string token, string prefix)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        for (int i = 0; i < 600; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{Address}/v1/kv/{prefix}?recurse");
            request.Headers.Add("X-Consul-Token", token);
            using var response = await Http.SendAsync(request);
            if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"the token still reads {prefix} after its policy changed");
    }

    /// <summary>Sets a TTL check: <c>pass</c>, <c>warn</c> or <c>fail</c>.</summary>
    public async Task SetCheckAsync(string checkId, string verdict)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"{Address}/v1/agent/check/{verdict}/{Uri.EscapeDataString(checkId)}");
        using var response = await SendAsync(request);
        response.EnsureSuccessStatusCode();
    }

    private Task<HttpResponseMessage> SendAsync(HttpRequestMessage request)
    {
        if (MasterToken is { } token)
        {
            request.Headers.Add("X-Consul-Token", token);
        }

        return Http.SendAsync(request);
    }

    /// <summary>The consul binary: <c>CHECKUPS_CONSUL</c>, else <c>.tools/consul/usr/bin/consul</c> in a folder above the tests.</summary>
    public static string Binary()
    {
        if (Environment.GetEnvironmentVariable("CHECKUPS_CONSUL") is { Length: > 0 } configured)
        {
            return configured;
        }

        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            string candidate = Path.Combine(folder.FullName, ".tools", "consul", "usr", "bin", "consul");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("The consul agent was not found (CHECKUPS_CONSUL, or .tools/consul). Run ./test.sh, which fetches it.");
    }

    private async Task StartOnceAsync(int? httpPort = null)
    {
        _directory = ServerProcess.NewTempDirectory();
        // Four distinct ports (an agent refuses a configuration that gives two of its listeners the same one), none of them
        // the HTTP port kept across a restart.
        var ports = ServerProcess.FreePorts(5).Where(p => p != httpPort).ToArray();
        HttpPort = httpPort ?? ports[3];
        string config = Path.Combine(_directory, "agent.json");
        string acl = MasterToken is { } token
            ? $$""", "acl": { "enabled": true, "default_policy": "deny", "tokens": { "master": "{{token}}", "agent": "{{token}}" } }"""
            : string.Empty;
        await File.WriteAllTextAsync(config, $$"""
            {
              "ports": { "http": {{HttpPort}}, "dns": -1, "grpc": -1,
                         "serf_lan": {{ports[0]}}, "serf_wan": {{ports[1]}}, "server": {{ports[2]}} },
              "disable_update_check": true{{acl}}
            }
            """);
        var process = ServerProcess.Start(Binary(), new List<string> { "agent", "-dev", "-bind=127.0.0.1", "-client=127.0.0.1", "-config-file=" + config });
        try
        {
            await process.WaitForOutputAsync("Synced node info", TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException ex)
        {
            // Another process took a port between choosing and binding it: try again with other ports.
            bool taken = process.Output.Contains("address already in use", StringComparison.Ordinal)
                || process.Output.Contains("already configured", StringComparison.Ordinal);
            await process.DisposeAsync();
            Directory.Delete(_directory, recursive: true);
            _directory = null;
            if (taken)
            {
                throw new PortTakenException(ex);
            }

            throw;
        }

        _process = process;
    }
}

/// <summary>An agent whose ACLs deny by default; <see cref="MasterToken"/> may do anything.</summary>
public sealed class ConsulAclAgent : ConsulAgent
{
    public override string? MasterToken => "3f1c2a6e-0b7d-4c55-9a1e-7d2c5b8e4f10";
}
