using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Threading;
using Checkups.Health;
using Checkups.Model;

namespace Checkups.Balancing;

/// <summary>
/// nginx's and lua-resty-checkups' smooth weighted round robin, exactly. One state per cluster, shared by every call:
/// per pick every selectable server not yet tried in the call adds its effective weight to its current weight, the
/// highest current weight wins (the first on ties) and subtracts the total. Effective weight starts at the weight,
/// rises by 1 per pick while below it, and halves (rounding up) on a failure, which changes nothing else: the running
/// sequence goes on. A retry inside a call is a step over the servers it has not tried, on the shared state, as lua's
/// try loop does. A cluster of one server keeps no state.
/// </summary>
/// <remarks>
/// <para>
/// While every selectable server is at its full effective weight, the steps ahead depend on nothing but the state, so
/// they are run ahead of time (<see cref="SmoothSequence"/>) into a <see cref="Run"/> that picks take lock-free by an
/// interlocked cursor: concurrent picks take consecutive steps. A run that ends in the state it started from repeats
/// for ever (from a reset state it always does, after the weights' sum over their greatest common divisor).
/// </para>
/// <para>
/// Anything that changes the steps ahead closes the run under the cluster's lock: a failure that lowers an effective
/// weight, a retry, a server of the run turning unselectable, or one outside it turning selectable again. Closing
/// rebuilds the exact state at the cursor from the run's start and the steps taken; the lock then steps the algorithm
/// itself until every selectable server is whole again, and a new run starts from there. Runs cost servers × steps
/// to build, so this class serves clusters up to <see cref="ExactBudget"/>; larger ones use
/// <see cref="WeightedSchedule"/> (see <see cref="Create"/>).
/// </para>
/// </remarks>
internal sealed class SmoothWeightedRoundRobin : ServerSelector
{
    /// <summary>The most servers × steps per cycle this class takes; a run is rebuilt at this cost after a change.</summary>
    internal const long ExactBudget = 1 << 16;

    /// <summary>A cursor value past every position a run can hand out: set when the run is closed.</summary>
    private const long Closed = 1L << 62;

    private readonly Server[] _servers;
    private readonly int[] _weights;
    private readonly int[] _slotOf;
    private readonly long[] _current;
    private readonly int[] _effective;
#if NET9_0_OR_GREATER
    private readonly Lock _gate = new();
#else
    private readonly object _gate = new();
#endif
    private volatile Run? _run;

    private SmoothWeightedRoundRobin(Server[] servers)
    {
        _servers = servers;
        _weights = new int[servers.Length];
        _effective = new int[servers.Length];
        _current = new long[servers.Length];
        int maxIndex = -1;
        for (int i = 0; i < servers.Length; i++)
        {
            _weights[i] = _effective[i] = servers[i].Weight;
            maxIndex = Math.Max(maxIndex, servers[i].Index);
        }

        _slotOf = new int[maxIndex + 1];
        Array.Fill(_slotOf, -1);
        for (int i = 0; i < servers.Length; i++)
        {
            _slotOf[servers[i].Index] = i;
        }

        lock (_gate)
        {
            _run = BuildRun();
        }
    }

    /// <summary>
    /// The round robin of a set of servers (the down ones never take part): exact for sets whose servers × cycle
    /// length is within <see cref="ExactBudget"/>, a lock-free schedule beyond.
    /// </summary>
    public static ServerSelector Create(ImmutableArray<Server> servers, long exactBudget = ExactBudget)
    {
        var up = new List<Server>(servers.Length);
        int divisor = 0;
        long sum = 0;
        foreach (var server in servers)
        {
            if (!server.Down)
            {
                up.Add(server);
                divisor = Gcd(divisor, server.Weight);
                sum += server.Weight;
            }
        }

        long period = divisor == 0 ? 0 : sum / divisor;
        return (long)up.Count * period <= exactBudget
            ? new SmoothWeightedRoundRobin(up.ToArray())
            : new WeightedSchedule(up.ToArray());
    }

    public override Server? Pick(ref SelectionContext context)
    {
        if (_servers.Length == 1)
        {
            // lua's one-server cluster: no state, no weight.
            var only = _servers[0];
            long ignored = 0;
            return !context.Tried.Contains(only.Index) && ServerHealth.IsSelectable(only, ref ignored) ? only : null;
        }

        var run = _run;
        long position = -1;
        if (run is not null && context.Tried.IsEmpty)
        {
            position = Interlocked.Increment(ref run.Cursor);
            if (position < run.Limit)
            {
                var server = run.Servers[run.Length.Of(position)];
                long now = 0;
                if (ServerHealth.IsSelectable(server, ref now) && !run.RecheckDue(ref now))
                {
                    return server;
                }
            }
        }

        return StepLocked(ref context, run, position);
    }

    public override void OnCompleted(Server server, in CallOutcome outcome)
    {
        if (!outcome.Failed || _servers.Length == 1)
        {
            return;
        }

        int slot = SlotOf(server);
        if (slot < 0)
        {
            return;
        }

        lock (_gate)
        {
            int halved = (_effective[slot] + 1) / 2;
            if (halved == _effective[slot])
            {
                // Weight 1 stays 1: the steps ahead are unchanged, so the run goes on.
                return;
            }

            Close(_run, -1);
            _effective[slot] = halved;
        }
    }

    private int SlotOf(Server server)
    {
        int index = server.Index;
        if (index < 0 || index >= _slotOf.Length)
        {
            return -1;
        }

        int slot = _slotOf[index];
        return slot >= 0 && ReferenceEquals(_servers[slot], server) ? slot : -1;
    }

    private Server? StepLocked(ref SelectionContext context, Run? observed, long position)
    {
        lock (_gate)
        {
            Close(observed, position);
            var picked = Step(ref context);
            if (_run is null)
            {
                _run = BuildRun();
            }

            return picked;
        }
    }

    /// <summary>
    /// Ends <paramref name="run"/> if it is still the open one and rebuilds the state at its cursor. A caller that
    /// took <paramref name="position"/> without serving it, and was the last to take one, is not counted.
    /// </summary>
    private void Close(Run? run, long position)
    {
        if (run is null || !ReferenceEquals(run, _run))
        {
            return;
        }

        long last = Interlocked.Exchange(ref run.Cursor, Closed);
        long taken = position >= 0 && last == position ? position : last + 1;
        run.StateAfter(taken, _current, _weights);
        _run = null;
    }

    /// <summary>One step of the algorithm over the selectable servers not tried in this call.</summary>
    private Server? Step(ref SelectionContext context)
    {
        var servers = _servers;
        var current = _current;
        var effective = _effective;
        bool anyTried = !context.Tried.IsEmpty;
        long now = 0;
        int best = -1;
        long total = 0;
        for (int i = 0; i < servers.Length; i++)
        {
            var server = servers[i];
            if ((anyTried && context.Tried.Contains(server.Index)) || !ServerHealth.IsSelectable(server, ref now))
            {
                continue;
            }

            int weight = effective[i];
            current[i] += weight;
            total += weight;
            if (weight < _weights[i])
            {
                effective[i] = weight + 1;
            }

            if (best < 0 || current[i] > current[best])
            {
                best = i;
            }
        }

        if (best < 0)
        {
            return null;
        }

        current[best] -= total;
        return servers[best];
    }

    /// <summary>
    /// A run from the current state when every selectable server is at its full effective weight; otherwise
    /// <see langword="null"/> (picks step under the lock until they are).
    /// </summary>
    private Run? BuildRun()
    {
        // The epoch is read before the servers: a server that turns selectable after its check moves it.
        var health = UpstreamHealth.Of(_servers);
        int epoch = health.SelectableEpoch;
        long now = 0;
        var participants = new List<int>(_servers.Length);
        long reviveAt = long.MaxValue;
        bool excluded = false;
        long total = 0;
        int divisor = 0;
        for (int i = 0; i < _servers.Length; i++)
        {
            var server = _servers[i];
            if (!ServerHealth.IsSelectable(server, ref now))
            {
                excluded = true;
                if (server.Health.RevivesAt is var until and > 0)
                {
                    reviveAt = Math.Min(reviveAt, until);
                }

                continue;
            }

            if (_effective[i] != _weights[i])
            {
                return null;
            }

            participants.Add(i);
            total += _weights[i];
            divisor = Gcd(divisor, _weights[i]);
        }

        if (participants.Count == 0)
        {
            return null;
        }

        var start = (long[])_current.Clone();
        var order = new int[total / divisor];
        var end = (long[])_current.Clone();
        SmoothSequence.Run(_weights, participants.ToArray(), end, order);
        bool repeats = end.AsSpan().SequenceEqual(start);
        var recheck = excluded ? new Recheck(epoch, reviveAt == long.MaxValue ? 0 : reviveAt, _servers[0].Health.Time, health) : null;
        var servers = new Server[order.Length];
        for (int i = 0; i < order.Length; i++)
        {
            servers[i] = _servers[order[i]];
        }

        return new Run(order, servers, start, participants.ToArray(), total, repeats, recheck);
    }

    internal static int Gcd(int a, int b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }

    /// <summary>What brings a run with servers left out to an end: one of them may be selectable again.</summary>
    /// <param name="Epoch">The selectable epoch when the run was built (an active verdict or a success revives).</param>
    /// <param name="ReviveAt">When the earliest passive <c>err</c> among them ends (timestamp), or 0.</param>
    /// <param name="Clock">Reads the clock the timestamps come from.</param>
    /// <param name="Health">The upstream whose epoch moves when one of its servers turns <c>err</c> or back.</param>
    private sealed record Recheck(int Epoch, long ReviveAt, TimeProvider Clock, UpstreamHealth Health);

    /// <summary>Steps taken ahead of time from one state, served by an interlocked cursor.</summary>
    private sealed class Run
    {
        public readonly int[] Order;

        /// <summary>The servers of <see cref="Order"/>, one read less per pick.</summary>
        public readonly Server[] Servers;

        public readonly CycleLength Length;

        /// <summary>The first position not to serve: every position for a run that repeats, its length otherwise.</summary>
        public readonly long Limit;

        /// <summary>The position last taken (-1 before the first pick); <see cref="Closed"/> and above once closed.</summary>
        public long Cursor = -1;

        private readonly long[] _start;
        private readonly int[] _participants;
        private readonly long _total;
        private readonly bool _repeats;
        private readonly Recheck? _recheck;

        public Run(int[] order, Server[] servers, long[] start, int[] participants, long total, bool repeats, Recheck? recheck)
        {
            Order = order;
            Servers = servers;
            Length = new CycleLength(order.Length);
            _start = start;
            _participants = participants;
            _total = total;
            _repeats = repeats;
            _recheck = recheck;
            Limit = repeats ? Closed : order.Length;
        }

        /// <summary>Whether a server the run leaves out may be selectable again, so the run must end.</summary>
        public bool RecheckDue(ref long now)
        {
            var recheck = _recheck;
            if (recheck is null)
            {
                return false;
            }

            if (recheck.Health.SelectableEpoch != recheck.Epoch)
            {
                return true;
            }

            if (recheck.ReviveAt == 0)
            {
                return false;
            }

            if (now == 0)
            {
                now = recheck.Clock.GetTimestamp();
            }

            return now >= recheck.ReviveAt;
        }

        /// <summary>Writes the state after the first <paramref name="taken"/> steps of the run into <paramref name="current"/>.</summary>
        public void StateAfter(long taken, long[] current, int[] weights)
        {
            long steps = _repeats ? taken % Order.Length : Math.Min(taken, Order.Length);
            _start.CopyTo(current, 0);
            for (int i = 0; i < steps; i++)
            {
                current[Order[i]] -= _total;
            }

            foreach (int slot in _participants)
            {
                current[slot] += steps * weights[slot];
            }
        }
    }
}
