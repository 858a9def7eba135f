using System;
using System.Buffers;
using System.Collections.Immutable;
using System.Linq;
using Checkups.Configuration;
using Checkups.Model;

namespace Checkups.Balancing;

/// <summary>
/// Fastest response ("speed first"), as Linkerd and Finagle balance: each server's cost is its peak-sensitive latency
/// average (<see cref="Health.PeakEwma"/>) × (calls in flight + 1); of two servers drawn at random in proportion to their
/// weights, the cheaper wins (fewer in flight on a tie). A server without samples yet is costed at the average of those
/// with samples, so it gets a fair first chance without an unbounded penalty or bonus. A failed call counts as a sample
/// of at least the failure penalty.
/// </summary>
internal sealed class FastestResponse : InFlightSelector
{
    private readonly Server[] _servers;
    private readonly TimeProvider _time;
    private readonly RandomSource _random;
    private readonly double _decay;
    private readonly double _failurePenalty;

    public FastestResponse(ImmutableArray<Server> servers, FastestResponseOptions options, BalancingEnvironment environment)
    {
        _servers = servers.ToArray();
        _time = environment.Time;
        _random = environment.Random;
        _decay = options.DecayTime.TotalSeconds * _time.TimestampFrequency;
        _failurePenalty = options.FailurePenalty.TotalSeconds * _time.TimestampFrequency;
    }

    public override Server? Pick(ref SelectionContext context)
    {
        // Above the stack limit the buffer is rented, so a pick allocates nothing at any cluster size.
        int[]? rented = _servers.Length <= Candidates.StackLimit ? null : ArrayPool<int>.Shared.Rent(_servers.Length);
        try
        {
            Span<int> candidates = rented is null ? stackalloc int[_servers.Length] : rented;
            return Pick(ref context, candidates);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<int>.Shared.Return(rented);
            }
        }
    }

    private Server? Pick(ref SelectionContext context, Span<int> candidates)
    {
        int count = Candidates.Collect(_servers, ref context, candidates, out long totalWeight);
        if (count <= 1)
        {
            return count == 0 ? null : _servers[candidates[0]];
        }

        candidates = candidates[..count];
        var (first, second) = Candidates.DrawTwo(_servers, candidates, totalWeight, _random);
        var a = _servers[first];
        var b = _servers[second];
        long now = _time.GetTimestamp();
        double unsampled = -1;
        double costA = Cost(a, now, candidates, ref unsampled);
        double costB = Cost(b, now, candidates, ref unsampled);
        if (costA != costB)
        {
            return costA < costB ? a : b;
        }

        return b.Health.InFlight < a.Health.InFlight ? b : a;
    }

    protected override void OnCallCompleted(Server server, in CallOutcome outcome)
    {
        if (!outcome.Started && !outcome.Failed)
        {
            // A success reported by hand carries no latency; a failure still counts as slow.
            return;
        }

        double sample = outcome.ElapsedTimestamp;
        if (outcome.Failed)
        {
            sample = Math.Max(sample, _failurePenalty);
        }

        server.Health.Latency.Observe(_time.GetTimestamp(), sample, _decay);
    }

    private double Cost(Server server, long now, ReadOnlySpan<int> candidates, ref double unsampled)
    {
        if (!server.Health.Latency.TryRead(now, _decay, out double latency))
        {
            if (unsampled < 0)
            {
                unsampled = AverageOfSampled(now, candidates);
            }

            latency = unsampled;
        }

        return latency * (server.Health.InFlight + 1);
    }

    private double AverageOfSampled(long now, ReadOnlySpan<int> candidates)
    {
        double sum = 0;
        int sampled = 0;
        foreach (int index in candidates)
        {
            if (_servers[index].Health.Latency.TryRead(now, _decay, out double latency))
            {
                sum += latency;
                sampled++;
            }
        }

        return sampled == 0 ? 0 : sum / sampled;
    }
}
