using System;

namespace Checkups.Health;

/// <summary>
/// A peak-sensitive exponentially weighted moving average of latency (Finagle's and Linkerd's PeakEWMA): a sample above
/// the average replaces it at once; otherwise samples are blended with a weight that decays with the time between them
/// (<c>w = e^(-Δt/τ)</c>). Reading decays the average towards zero the same way, so a server that has been avoided for a
/// while looks cheaper again and gets a fresh sample. Values are in <see cref="TimeProvider"/> timestamp units.
/// </summary>
internal sealed class PeakEwma
{
    private readonly object _gate = new();
    private double _average;
    private long _stamp;
    private bool _sampled;

    public bool HasSamples => TryRead(0, 1, out _);

    /// <summary>The average as of <paramref name="now"/>, decayed since the last sample; <see langword="false"/> before any sample.</summary>
    public bool TryRead(long now, double decay, out double average)
    {
        lock (_gate)
        {
            average = _sampled ? _average * Weight(now - _stamp, decay) : 0;
            return _sampled;
        }
    }

    public void Observe(long now, double sample, double decay)
    {
        lock (_gate)
        {
            if (!_sampled || sample > _average)
            {
                _average = sample;
            }
            else
            {
                double w = Weight(now - _stamp, decay);
                _average = (_average * w) + (sample * (1 - w));
            }

            _stamp = now;
            _sampled = true;
        }
    }

    private static double Weight(long elapsed, double decay) => elapsed <= 0 ? 1 : Math.Exp(-elapsed / decay);
}
