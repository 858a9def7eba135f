using System;
using System.Collections.Generic;

namespace Checkups.Balancing;

/// <summary>
/// Runs nginx's smooth weighted round robin ahead of time: from a given state, with every participant at its full
/// weight, writes the slots the next steps pick and leaves the state they end in. Per step every participant adds its
/// weight to its current weight, the highest current weight wins (the lowest slot on ties) and subtracts the total.
/// </summary>
/// <remarks>
/// A step compares every participant, so a run of L steps over n servers costs n × L. Servers of equal weight keep
/// their order between their own picks, so for larger sets the participants are grouped by weight, each group keeps
/// its leader in a heap, and a step compares the group leaders only: (distinct weights + log n) × L. Both give the same
/// sequence, tie-break included.
/// </remarks>
internal static class SmoothSequence
{
    /// <summary>Above this many participants the grouped run is used.</summary>
    private const int GroupedAbove = 32;

    /// <summary>
    /// Runs <paramref name="order"/>.Length steps over <paramref name="participants"/> (slots into
    /// <paramref name="weights"/> and <paramref name="current"/>, in ascending order), writing each step's winner to
    /// <paramref name="order"/> and leaving <paramref name="current"/> at the state after the last step.
    /// </summary>
    public static void Run(ReadOnlySpan<int> weights, ReadOnlySpan<int> participants, Span<long> current, Span<int> order)
    {
        if (participants.Length > GroupedAbove)
        {
            RunGrouped(weights, participants, current, order);
            return;
        }

        long total = 0;
        foreach (int slot in participants)
        {
            total += weights[slot];
        }

        for (int step = 0; step < order.Length; step++)
        {
            int best = -1;
            foreach (int slot in participants)
            {
                current[slot] += weights[slot];
                if (best < 0 || current[slot] > current[best])
                {
                    best = slot;
                }
            }

            current[best] -= total;
            order[step] = best;
        }
    }

    private static void RunGrouped(ReadOnlySpan<int> weights, ReadOnlySpan<int> participants, Span<long> current, Span<int> order)
    {
        // A participant's current weight after s steps is key + s × weight, where key only changes when it wins.
        var byWeight = new Dictionary<int, List<int>>();
        long total = 0;
        foreach (int slot in participants)
        {
            int weight = weights[slot];
            total += weight;
            if (!byWeight.TryGetValue(weight, out var members))
            {
                byWeight[weight] = members = new List<int>();
            }

            members.Add(slot);
        }

        var keys = current.ToArray();
        var groups = new LeaderHeap[byWeight.Count];
        var groupWeights = new long[byWeight.Count];
        int g = 0;
        foreach (var (weight, members) in byWeight)
        {
            groupWeights[g] = weight;
            groups[g++] = new LeaderHeap(members.ToArray(), keys);
        }

        for (int step = 0; step < order.Length; step++)
        {
            long s = step + 1;
            int bestGroup = 0;
            int bestSlot = groups[0].Top;
            long bestValue = keys[bestSlot] + (s * groupWeights[0]);
            for (int i = 1; i < groups.Length; i++)
            {
                int slot = groups[i].Top;
                long value = keys[slot] + (s * groupWeights[i]);
                if (value > bestValue || (value == bestValue && slot < bestSlot))
                {
                    bestGroup = i;
                    bestSlot = slot;
                    bestValue = value;
                }
            }

            keys[bestSlot] -= total;
            groups[bestGroup].TopDecreased(keys);
            order[step] = bestSlot;
        }

        long steps = order.Length;
        foreach (int slot in participants)
        {
            current[slot] = keys[slot] + (steps * weights[slot]);
        }
    }

    /// <summary>A binary max-heap of slots by key, the lower slot first on equal keys.</summary>
    private readonly struct LeaderHeap
    {
        private readonly int[] _slots;

        public LeaderHeap(int[] slots, long[] keys)
        {
            _slots = slots;
            for (int i = (_slots.Length / 2) - 1; i >= 0; i--)
            {
                SiftDown(i, keys);
            }
        }

        public int Top => _slots[0];

        public void TopDecreased(long[] keys) => SiftDown(0, keys);

        private void SiftDown(int at, long[] keys)
        {
            var slots = _slots;
            while (true)
            {
                int left = (2 * at) + 1;
                if (left >= slots.Length)
                {
                    return;
                }

                int child = left + 1 < slots.Length && Before(slots[left + 1], slots[left], keys) ? left + 1 : left;
                if (!Before(slots[child], slots[at], keys))
                {
                    return;
                }

                (slots[child], slots[at]) = (slots[at], slots[child]);
                at = child;
            }
        }

        private static bool Before(int a, int b, long[] keys) => keys[a] > keys[b] || (keys[a] == keys[b] && a < b);
    }
}
