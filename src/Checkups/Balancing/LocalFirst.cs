using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Checkups.Health;
using Checkups.Model;

namespace Checkups.Balancing;

/// <summary>
/// Local first, with Envoy's zone-aware rule. Servers are local when their zone is the process's
/// (<see cref="Configuration.CheckupsOptions.LocalZone"/>) or their address is this machine's. With Z zones among the
/// cluster's servers and callers spread evenly over them, the local zone can carry its callers' share while its healthy
/// weight × Z ≥ the cluster's healthy weight; then every call stays local. Below that, a call stays local with
/// probability (local healthy × Z) / (all healthy), which loads each local server exactly as much as a global balance
/// would, and otherwise goes to the other servers. Panic guard: when less than the threshold share of the local weight
/// is selectable, calls are balanced over every server. Smooth weighted round robin inside each set.
/// </summary>
internal sealed class LocalFirst : ServerSelector
{
    private readonly Server[] _servers;
    private readonly bool[] _local;
    private readonly int _zones;
    private readonly long _localWeight;
    private readonly double _panicThreshold;
    private readonly RandomSource _random;
    private readonly ServerSelector _localSet;
    private readonly ServerSelector _remoteSet;
    private readonly ServerSelector _all;

    public LocalFirst(ImmutableArray<Server> servers, double panicThreshold, BalancingEnvironment environment)
    {
        _servers = servers.ToArray();
        _local = new bool[_servers.Length];
        _panicThreshold = panicThreshold;
        _random = environment.Random;
        var zones = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var local = ImmutableArray.CreateBuilder<Server>();
        var remote = ImmutableArray.CreateBuilder<Server>();
        for (int i = 0; i < _servers.Length; i++)
        {
            var server = _servers[i];
            _local[i] = IsLocal(server, environment.Locality);
            zones.Add(server.Zone ?? (_local[i] ? "\0local" : "\0remote"));
            (_local[i] ? local : remote).Add(server);
            _localWeight += _local[i] ? server.Weight : 0;
        }

        _zones = Math.Max(zones.Count, 1);
        _localSet = SmoothWeightedRoundRobin.Create(local.ToImmutable());
        _remoteSet = SmoothWeightedRoundRobin.Create(remote.ToImmutable());
        _all = SmoothWeightedRoundRobin.Create(servers);
    }

    public override Server? Pick(ref SelectionContext context)
    {
        long localHealthy = 0;
        long allHealthy = 0;
        bool anyTried = !context.Tried.IsEmpty;
        long now = 0;
        for (int i = 0; i < _servers.Length; i++)
        {
            var server = _servers[i];
            if ((anyTried && context.Tried.Contains(server.Index)) || !ServerHealth.IsSelectable(server, ref now))
            {
                continue;
            }

            allHealthy += server.Weight;
            localHealthy += _local[i] ? server.Weight : 0;
        }

        if (localHealthy == 0 || localHealthy < _panicThreshold * _localWeight)
        {
            return _all.Pick(ref context);
        }

        bool stayLocal = localHealthy * _zones >= allHealthy
            || _random.NextDouble() * allHealthy < (double)localHealthy * _zones;
        return stayLocal
            ? _localSet.Pick(ref context) ?? _remoteSet.Pick(ref context)
            : _remoteSet.Pick(ref context) ?? _localSet.Pick(ref context);
    }

    public override void OnCompleted(Server server, in CallOutcome outcome)
    {
        (_local[server.Index] ? _localSet : _remoteSet).OnCompleted(server, outcome);
        _all.OnCompleted(server, outcome);
    }

    private static bool IsLocal(Server server, Configuration.Locality locality) =>
        (locality.Zone is not null && string.Equals(server.Zone, locality.Zone, StringComparison.OrdinalIgnoreCase))
        || (locality.PreferLocalAddresses && LocalAddresses.Contains(server.Host));
}
