using System;
using System.Net.Http;
using System.Threading.Tasks;
using Checkups.Gateway;

// The Checkups gateway, Slardar's shape on YARP: routes by Host header and path prefix to clusters bound to Checkups
// upstreams (appsettings.json), an admin API and status page on a port of their own behind a bearer token, and
// optionally Consul as the owner of the upstreams that change at run time. Without arguments it starts demo backends
// and prints ready-to-paste curl commands; --smoke checks itself and exits. See GatewayArguments.Usage.
if (!GatewayArguments.TryParse(args, out var arguments, out string? error))
{
    Console.Error.WriteLine(error);
    Console.Error.WriteLine(GatewayArguments.Usage);
    return 2;
}

if (arguments.Help)
{
    Console.WriteLine(GatewayArguments.Usage);
    return 0;
}

try
{
    return await GatewayHost.RunAsync(arguments);
}
catch (Exception e) when (e is InvalidOperationException or HttpRequestException or System.IO.IOException or ArgumentException or Checkups.CheckupsException)
{
    // A configuration that does not hold, a port taken, Consul not answering: said in one line, not a stack trace.
    Console.Error.WriteLine($"Gateway failed: {e.Message}");
    return 1;
}
