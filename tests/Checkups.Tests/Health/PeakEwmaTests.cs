using System;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Health;

namespace Checkups.Tests.Health;

public sealed class PeakEwmaTests
{
    [Fact]
    public void Observe_HigherSampleReplacesLowerOneBlendsByElapsedTime()
    {
        var ewma = new PeakEwma();
        Assert.False(ewma.TryRead(0, 10, out _));

        ewma.Observe(100, 50, decay: 10);
        Assert.True(ewma.TryRead(100, 10, out double peak));
        Assert.Equal(50, peak);

        // 10 units later the old average weighs e^-1.
        ewma.Observe(110, 20, decay: 10);
        Assert.True(ewma.TryRead(110, 10, out double blended));
        Assert.Equal((50 * Math.Exp(-1)) + (20 * (1 - Math.Exp(-1))), blended, 9);

        // Reading decays towards zero the same way.
        Assert.True(ewma.TryRead(120, 10, out double decayed));
        Assert.Equal(blended * Math.Exp(-1), decayed, 9);
    }

    /// <summary>
    /// Reads take no lock, so they must never pair one sample's average with another's time stamp. Each sample k is
    /// written at time N − k with value e^(k/τ): every consistent pair reads back as exactly 1 at time N, a torn one not.
    /// </summary>
    [Fact]
    public async Task TryRead_WhileSamplesAreWritten_NeverSeesATornSample()
    {
        const double Decay = 1000;
        const long N = 1_000_000;
        const int Samples = 300_000;
        var ewma = new PeakEwma();
        ewma.Observe(N, 1, Decay);
        int written = 0;
        int torn = 0;
        long reads = 0;
        int readersStarted = 0;

        var writer = Task.Run(() =>
        {
            // The readers read while samples are written: on a busy machine they may start late, so the writer waits for
            // them (bounded), and each reads at least once.
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
            for (int spin = 0; spin < 100_000_000 && Volatile.Read(ref readersStarted) < 2 && DateTime.UtcNow < deadline; spin++)
            {
                Thread.Yield();
            }

            for (int k = 1; k <= Samples; k++)
            {
                ewma.Observe(N - k, Math.Exp(k / Decay), Decay);
            }

            Volatile.Write(ref written, 1);
        });

        var readers = new Task[2];
        for (int r = 0; r < readers.Length; r++)
        {
            readers[r] = Task.Run(() =>
            {
                // Bounded twice over: until the writer is done, and at most this many reads.
                Interlocked.Increment(ref readersStarted);
                for (int i = 0; i < 50_000_000 && (i == 0 || Volatile.Read(ref written) == 0); i++)
                {
                    Assert.True(ewma.TryRead(N, Decay, out double value));
                    if (Math.Abs(value - 1) > 1e-9)
                    {
                        Interlocked.Increment(ref torn);
                    }

                    Interlocked.Increment(ref reads);
                }
            });
        }

        await Task.WhenAll(readers).WaitAsync(TimeSpan.FromMinutes(5));
        await writer.WaitAsync(TimeSpan.FromMinutes(5));

        Assert.Equal(0, torn);
        Assert.True(ewma.TryRead(N, Decay, out double last));
        Assert.Equal(1, last, 9);
        Assert.True(Interlocked.Read(ref reads) > 0);
    }
}
