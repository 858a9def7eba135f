using System;
using System.Collections.Generic;
using System.Globalization;

namespace Checkups.Gateway;

/// <summary>
/// The command line. Mode flags stay here; values become configuration keys of the <c>Gateway</c> section, added over
/// appsettings.json and the environment (so <c>Gateway__AdminToken</c> works as well as <c>--admin-token</c>).
/// </summary>
internal sealed class GatewayArguments
{
    public const string Usage = """
        Usage: dotnet run --project samples/Checkups.Gateway [-- options]
          --smoke               send requests through every route, change an upstream live, check, print a summary and exit
          --consul URL          Consul owns the Gateway:LiveUpstreams upstreams (KV per server, upstreams/<name>/<host:port>);
                                in demo mode the gateway replaces those keys with its backends, and deletes them at the end
          --admin-token TOKEN   the admin API's bearer token (default: Gateway:AdminToken, else a random one, printed)
          --port N              the gateway's port on 127.0.0.1 (default: Gateway:Port, else a free port)
          --admin-port N        the admin API's port on 127.0.0.1 (default: Gateway:AdminPort, else a free port)
          --no-demo             use the hosts and ports of appsettings.json instead of starting demo backends
          --help                this text
        """;

    public bool Smoke { get; private set; }

    public bool Demo { get; private set; } = true;

    public bool Help { get; private set; }

    /// <summary>Gets the values given, as <c>Gateway:*</c> configuration keys.</summary>
    public Dictionary<string, string?> Configuration { get; } = new(StringComparer.OrdinalIgnoreCase);

    public static bool TryParse(string[] args, out GatewayArguments arguments, out string? error)
    {
        arguments = new GatewayArguments();
        error = null;
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            switch (arg)
            {
                case "--smoke":
                    arguments.Smoke = true;
                    break;
                case "--no-demo":
                    arguments.Demo = false;
                    break;
                case "--help" or "-h":
                    arguments.Help = true;
                    break;
                case "--consul" or "--admin-token" or "--port" or "--admin-port":
                    if (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                    {
                        error = $"{arg} needs a value";
                        return false;
                    }

                    string value = args[++i];
                    if (arg is "--port" or "--admin-port" && !int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                    {
                        error = $"{arg} needs a port number (was '{value}')";
                        return false;
                    }

                    arguments.Configuration[arg switch
                    {
                        "--consul" => "Gateway:Consul",
                        "--admin-token" => "Gateway:AdminToken",
                        "--port" => "Gateway:Port",
                        _ => "Gateway:AdminPort",
                    }] = value;
                    break;
                default:
                    error = $"unknown argument '{arg}'";
                    return false;
            }
        }

        if (arguments.Smoke && !arguments.Demo)
        {
            error = "--smoke checks the demo backends' answers, so it cannot be combined with --no-demo";
            return false;
        }

        return true;
    }
}
