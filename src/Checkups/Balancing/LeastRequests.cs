using System;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Checkups.Model;

namespace Checkups.Balancing;

/// <summary>
/// The selectable server with the fewest calls in flight per unit of weight (counting the new call). Ties are broken by
/// a rotating start, so equally loaded servers share the calls instead of the first one taking them all.
/// </summary>
internal sealed class LeastRequests : InFlightSelector
{
    private readonly Server[] _servers;
    private int _rotation;

    public LeastRequests(ImmutableArray<Server> servers) => _servers = servers.ToArray();

    public override Server? Pick(ref SelectionContext context)
    {
        Span<int> candidates = _servers.Length <= Candidates.StackLimit ? stackalloc int[_servers.Length] : new int[_servers.Length];
        int count = Candidates.Collect(_servers, ref context, candidates, out _);
        if (count == 0)
        {
            return null;
        }

        int start = (int)((uint)Interlocked.Increment(ref _rotation) % (uint)count);
        var best = _servers[candidates[start]];
        for (int k = 1; k < count; k++)
        {
            var server = _servers[candidates[(start + k) % count]];
            if (Candidates.LessLoaded(server, best))
            {
                best = server;
            }
        }

        return best;
    }
}
