using System;
using System.Collections.Generic;
using System.IO;
using System.Net.Http;
using System.Text;
using System.Threading.Tasks;
using Checkups.Tests.TestUtilities;

namespace Checkups.Consul.Tests;

/// <summary>
/// A real Consul agent (<c>consul agent -dev</c>, in memory) bound to 127.0.0.1 on free ports, started for the tests
/// and stopped by its PID. The binary comes from <c>CHECKUPS_CONSUL</c> or the <c>.tools/consul</c> folder that
/// <c>./test.sh</c> fills from Debian bullseye's consul package.
/// </summary>
public sealed class ConsulAgent : IAsyncLifetime
{
    private ServerProcess? _process;
    private string? _directory;

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
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }

        if (_directory is not null)
        {
            Directory.Delete(_directory, recursive: true);
        }

        Http.Dispose();
    }

    public async Task PutAsync(string key, string value)
    {
        using var response = await Http.PutAsync($"{Address}/v1/kv/{key}", new StringContent(value, Encoding.UTF8));
        response.EnsureSuccessStatusCode();
    }

    public async Task DeleteAsync(string key)
    {
        using var response = await Http.DeleteAsync($"{Address}/v1/kv/{key}");
        response.EnsureSuccessStatusCode();
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

    private async Task StartOnceAsync()
    {
        _directory = ServerProcess.NewTempDirectory();
        HttpPort = ServerProcess.FreePort();
        string config = Path.Combine(_directory, "agent.json");
        await File.WriteAllTextAsync(config, $$"""
            {
              "ports": { "http": {{HttpPort}}, "dns": -1, "grpc": -1,
                         "serf_lan": {{ServerProcess.FreePort()}}, "serf_wan": {{ServerProcess.FreePort()}}, "server": {{ServerProcess.FreePort()}} },
              "disable_update_check": true
            }
            """);
        var process = ServerProcess.Start(Binary(), new List<string> { "agent", "-dev", "-bind=127.0.0.1", "-client=127.0.0.1", "-config-file=" + config });
        try
        {
            await process.WaitForOutputAsync("Synced node info", TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException ex)
        {
            bool taken = process.Output.Contains("address already in use", StringComparison.Ordinal);
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
