using System;
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
    private double _balance;
    private long _stamp;

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
    }

    /// <summary>The budget <paramref name="options"/> describe.</summary>
    internal RetryBudget(CheckupsHttpOptions options, TimeProvider time)
        : this(options.RetryBudgetRatio, options.RetryBudgetMinPerSecond, options.RetryBudgetWindow, time)
    {
    }

    /// <summary>A request starts: it deposits its share.</summary>
    public void Deposit()
    {
        lock (_gate)
        {
            Advance();
            _balance += _ratio;
        }
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
            Advance();
            if (_balance < 1)
            {
                return false;
            }

            _balance -= 1;
            return true;
        }
    }

    /// <summary>Fades the balance and adds the floor's deposits for the time since the last call.</summary>
    private void Advance()
    {
        long now = _time.GetTimestamp();
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
