using System;
using System.Threading;
using Checkups.Execution;

namespace Checkups.Http;

/// <summary>
/// How many retries a client may make, as Linkerd's and Envoy's retry budgets: each request deposits a share of a retry,
/// time deposits a floor of retries a second, and every deposit fades with a time constant (the window), so the balance
/// is what recent traffic earned. A retry withdraws one; without a whole one left, the request gets its first failure
/// back. The HttpClient handler keeps one per named client; give one to <see cref="CallSettings.RetryGate"/> to budget
/// the retries of a call loop of your own (the YARP integration keeps one per cluster).
/// </summary>
public sealed class RetryBudget : IRetryGate
{
    private readonly double _ratio;
    private readonly double _perSecond;
    private readonly double _window;
    private readonly TimeProvider _time;
    private readonly object _gate = new();
    private readonly long _foldEvery;
    private double _balance;
    private long _stamp;

    // Deposits not yet in the balance, and when they were last folded in: a request adds to a counter, not under the lock,
    // and the first request 1/200 of a window after the last fold (or a withdrawal) takes them in, as if made at that last
    // fold: their fading is off by at most 0.5 % of a window, and concurrent requests of one client never queue on a lock.
    private long _pending;
    private long _folded;

    /// <summary>Initializes a budget.</summary>
    /// <param name="ratio">The share of a retry each request deposits (0.2: a retry for every five requests).</param>
    /// <param name="minPerSecond">The retries a second time deposits whatever the traffic (a floor for quiet clients).</param>
    /// <param name="window">The time constant with which deposits fade.</param>
    /// <param name="time">The clock; <see langword="null"/> for the system clock.</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is negative, not finite, or the window is not positive.</exception>
    public RetryBudget(double ratio, double minPerSecond, TimeSpan window, TimeProvider? time = null)
    {
        if (!(ratio >= 0 && double.IsFinite(ratio)))
        {
            throw new ArgumentOutOfRangeException(nameof(ratio), ratio, "The ratio must be a finite number of at least 0.");
        }

        if (!(minPerSecond >= 0 && double.IsFinite(minPerSecond)))
        {
            throw new ArgumentOutOfRangeException(nameof(minPerSecond), minPerSecond, "The floor must be a finite number of at least 0.");
        }

        if (window <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(window), window, "The window must be positive.");
        }

        _ratio = ratio;
        _perSecond = minPerSecond;
        _window = window.TotalSeconds;
        _time = time ?? TimeProvider.System;
        _stamp = _time.GetTimestamp();

        // A client starts with what the floor alone earns over a window, so its first failures may be retried.
        _balance = _perSecond * _window;
        _folded = _stamp;
        _foldEvery = Math.Max(1, (long)(window.TotalSeconds / 200 * _time.TimestampFrequency));
    }

    /// <summary>The budget <paramref name="options"/> describe.</summary>
    internal RetryBudget(CheckupsHttpOptions options, TimeProvider time)
        : this(options.RetryBudgetRatio, options.RetryBudgetMinPerSecond, options.RetryBudgetWindow, time)
    {
    }

    /// <summary>A request starts: it deposits its share.</summary>
    public void Deposit()
    {
        long now = _time.GetTimestamp();
        if (now - Volatile.Read(ref _folded) >= _foldEvery && Monitor.TryEnter(_gate))
        {
            try
            {
                Fold(now);
                _balance += _ratio;
            }
            finally
            {
                Monitor.Exit(_gate);
            }

            return;
        }

        Interlocked.Increment(ref _pending);
    }

    /// <inheritdoc />
    public string RefusalReason => "the retry budget is exhausted";

    /// <inheritdoc />
    public bool TryAcquireRetry(UpstreamCall upstreamCall) => TryWithdraw();

    /// <summary>Takes one retry from the budget; <see langword="false"/> when there is not a whole one.</summary>
    public bool TryWithdraw()
    {
        lock (_gate)
        {
            Fold(_time.GetTimestamp());
            if (_balance < 1)
            {
                return false;
            }

            _balance -= 1;
            return true;
        }
    }

    /// <summary>
    /// Takes in the pending deposits, as if made at the last fold (they were made within 1/200 of a window of it, unless a
    /// concurrent fold held the lock), and brings the balance to <paramref name="now"/> (under the lock).
    /// </summary>
    private void Fold(long now)
    {
        _balance += Interlocked.Exchange(ref _pending, 0) * _ratio;
        Advance(now);
        Volatile.Write(ref _folded, now);
    }

    /// <summary>Fades the balance and adds the floor's deposits for the time since the last fold.</summary>
    private void Advance(long now)
    {
        double elapsed = (now - _stamp) / (double)_time.TimestampFrequency;
        if (elapsed <= 0)
        {
            return;
        }

        _stamp = now;

        // d(balance)/dt = perSecond − balance / window, solved over the elapsed time.
        double fade = Math.Exp(-elapsed / _window);
        double steady = _perSecond * _window;
        _balance = steady + ((_balance - steady) * fade);
    }
}
