using System;
using System.Globalization;
using System.IO;
using System.Threading.Tasks;

namespace Checkups.TestUtils;

/// <summary>
/// A private MariaDB server on 127.0.0.1 and a free port, initialised in a temporary data directory (root over the socket
/// only, and a user <c>probe</c>/<c>probe-secret</c> for TCP logins); stopped by PID. Shared by the tests of a collection
/// (xunit wants the collection's definition in the tests' own assembly).
/// </summary>
public sealed class MariaDbServer : IAsyncLifetime
{
    public const string User = "probe";
    public const string Password = "probe-secret";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);
    private string _directory = string.Empty;
    private ServerProcess? _process;

    public int Port { get; private set; }

    public async Task InitializeAsync()
    {
        _directory = ServerProcess.NewTempDirectory();
        string data = Path.Combine(_directory, "data");
        string socket = Path.Combine(_directory, "mysqld.sock");
        await ServerProcess.RunAsync(
            "mariadb-install-db",
            new[] { "--no-defaults", "--datadir=" + data, "--user=root", "--auth-root-authentication-method=normal", "--skip-test-db" },
            Bound);
        // A free port can be taken by another process before the server binds it: then start again on another (3 tries).
        for (int attempt = 1; ; attempt++)
        {
            Port = ServerProcess.FreePort();
            _process = ServerProcess.Start("mariadbd", new[]
            {
                "--no-defaults",
                "--datadir=" + data,
                "--port=" + Port.ToString(CultureInfo.InvariantCulture),
                "--bind-address=127.0.0.1",
                "--socket=" + socket,
                "--pid-file=" + Path.Combine(_directory, "mysqld.pid"),
                "--user=root",
                "--skip-log-bin",
                "--skip-name-resolve",
            });
            try
            {
                await _process.WaitForOutputAsync("ready for connections", Bound);
                break;
            }
            catch (TimeoutException) when (attempt < 3 && _process.Output.Contains("Address already in use", StringComparison.Ordinal))
            {
                await _process.DisposeAsync();
            }
        }

        await ServerProcess.RunAsync(
            "mariadb",
            new[] { "--no-defaults", "--socket=" + socket, "-uroot", "-e", $"CREATE USER '{User}'@'%' IDENTIFIED BY '{Password}';" },
            Bound);
    }

    public async Task DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }

        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
