using System.Collections.Generic;
using Checkups.Registry;

namespace Checkups.Consul.Tests;

internal static class Picks
{
    /// <summary>How many of <paramref name="count"/> picks of <paramref name="upstream"/> went to each port.</summary>
    public static Dictionary<int, int> ByPort(UpstreamRegistry registry, string upstream, int count)
    {
        var picks = new Dictionary<int, int>();
        for (int i = 0; i < count; i++)
        {
            int port = registry.SelectPeer(upstream).Port;
            picks[port] = picks.GetValueOrDefault(port) + 1;
        }

        return picks;
    }
}
