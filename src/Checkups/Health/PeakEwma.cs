using System;
using System.Threading;

namespace Checkups.Health;

/// <summary>
/// A peak-sensitive exponentially weighted moving average of latency (Finagle's and Linkerd's PeakEWMA): a sample above
/// the average replaces it at once; otherwise samples are blended with a weight that decays with the time between them
/// (<c>w = e^(-Δt/τ)</c>). Reading decays the average towards zero the same way, so a server that has been avoided for a
/// while looks cheaper again and gets a fresh sample. Values are in <see cref="TimeProvider"/> timestamp units.
/// </summary>
/// <remarks>
/// Reads take no lock (a pick reads two or more averages): the average and its time stamp are guarded by a sequence
/// number, odd while a sample is being written, and a read that saw it odd or changed reads again. Writers, one per
/// completed call, take turns by compare-and-swap on the same number.
/// </remarks>
internal sealed class PeakEwma
{
    private int _sequence;
    private double _average;
    private long _stamp;

    /// <summary>Gets whether any sample has been observed.</summary>
    public bool HasSamples => Volatile.Read(ref _sequence) != 0;

    /// <summary>The average as of <paramref name="now"/>, decayed since the last sample; <see langword="false"/> before any sample.</summary>
    public bool TryRead(long now, double decay, out double average)
    {
        var spinner = default(SpinWait);
        while (true)
        {
            int before = Volatile.Read(ref _sequence);
            if (before == 0)
            {
                average = 0;
                return false;
            }

            if ((before & 1) == 0)
            {
                double value = Volatile.Read(ref _average);
                long stamp = Volatile.Read(ref _stamp);
                if (Volatile.Read(ref _sequence) == before)
                {
                    average = value * Weight(now - stamp, decay);
                    return true;
                }
            }

            spinner.SpinOnce();
        }
    }

    public void Observe(long now, double sample, double decay)
    {
        var spinner = default(SpinWait);
        int sequence;
        while (true)
        {
            sequence = Volatile.Read(ref _sequence);
            if ((sequence & 1) == 0 && Interlocked.CompareExchange(ref _sequence, sequence + 1, sequence) == sequence)
            {
                break;
            }

            spinner.SpinOnce();
        }

        double average = _average;
        if (sequence == 0 || sample > average)
        {
            average = sample;
        }
        else
        {
            double w = Weight(now - _stamp, decay);
            average = (average * w) + (sample * (1 - w));
        }

        Volatile.Write(ref _average, average);
        Volatile.Write(ref _stamp, now);

        // Never back to 0, which means "no sample": a wrapped sequence skips it.
        int next = sequence + 2;
        Volatile.Write(ref _sequence, next == 0 ? 2 : next);
    }

    private static double Weight(long elapsed, double decay) => elapsed <= 0 ? 1 : Math.Exp(-elapsed / decay);
}
