using System;
using Checkups.Health;
using Checkups.Model;

namespace Checkups.Balancing;

/// <summary>The selectable, untried servers of a cluster for one pick, and weighted random draws among them.</summary>
internal static class Candidates
{
    /// <summary>The largest cluster whose candidates are gathered on the stack.</summary>
    public const int StackLimit = 256;

    /// <summary>Writes the indexes of the usable servers into <paramref name="into"/>; returns how many, and their total weight.</summary>
    public static int Collect(Server[] servers, ref SelectionContext context, Span<int> into, out long totalWeight)
    {
        bool anyTried = !context.Tried.IsEmpty;
        long now = 0;
        int count = 0;
        totalWeight = 0;
        for (int i = 0; i < servers.Length; i++)
        {
            var server = servers[i];
            if ((anyTried && context.Tried.Contains(server.Index)) || !ServerHealth.IsSelectable(server, ref now))
            {
                continue;
            }

            into[count++] = i;
            totalWeight += server.Weight;
        }

        return count;
    }

    /// <summary>Draws one candidate with probability proportional to its weight; returns its position in <paramref name="candidates"/>.</summary>
    public static int DrawWeighted(Server[] servers, ReadOnlySpan<int> candidates, long totalWeight, RandomSource random)
    {
        long target = random.NextInt64(totalWeight);
        for (int k = 0; k < candidates.Length; k++)
        {
            target -= servers[candidates[k]].Weight;
            if (target < 0)
            {
                return k;
            }
        }

        return candidates.Length - 1;
    }

    /// <summary>
    /// Draws two different candidates, each with probability proportional to weight (the second among the rest).
    /// Needs at least two candidates.
    /// </summary>
    public static (int First, int Second) DrawTwo(Server[] servers, ReadOnlySpan<int> candidates, long totalWeight, RandomSource random)
    {
        int first = DrawWeighted(servers, candidates, totalWeight, random);
        long rest = totalWeight - servers[candidates[first]].Weight;
        long target = random.NextInt64(rest);
        for (int k = 0; k < candidates.Length; k++)
        {
            if (k == first)
            {
                continue;
            }

            target -= servers[candidates[k]].Weight;
            if (target < 0)
            {
                return (candidates[first], candidates[k]);
            }
        }

        return (candidates[first], candidates[first == candidates.Length - 1 ? 0 : candidates.Length - 1]);
    }

    /// <summary>Whether <paramref name="a"/> carries less load per unit of weight than <paramref name="b"/>, counting the new call.</summary>
    public static bool LessLoaded(Server a, Server b) =>
        ((long)a.Health.InFlight + 1) * b.Weight < ((long)b.Health.InFlight + 1) * a.Weight;
}
