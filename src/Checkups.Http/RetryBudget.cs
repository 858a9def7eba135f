using System;
using Checkups.Execution;

namespace Checkups.Http;

/// <summary>
/// How many retries a client may make, as Linkerd's and Envoy's retry budgets: each request deposits
/// <see cref="CheckupsHttpOptions.RetryBudgetRatio"/> of a retry, time deposits
/// <see cref="CheckupsHttpOptions.RetryBudgetMinPerSecond"/> retries a second, and every deposit fades with a time
/// constant of <see cref="CheckupsHttpOptions.RetryBudgetWindow"/>, so the balance is what recent traffic earned. A retry
/// withdraws one; without a whole one left, the request gets its first failure back.
/// </summary>
internal sealed class RetryBudget : IRetryGate
{
    private readonly double _ratio;
    private readonly double _perSecond;
    private readonly double _window;
    private readonly TimeProvider _time;
    private readonly object _gate = new();
    private double _balance;
    private long _stamp;

    public RetryBudget(CheckupsHttpOptions options, TimeProvider time)
    {
        _ratio = options.RetryBudgetRatio;
        _perSecond = options.RetryBudgetMinPerSecond;
        _window = options.RetryBudgetWindow.TotalSeconds;
        _time = time;
        _stamp = time.GetTimestamp();

        // A client starts with what the floor alone earns over a window, so its first failures may be retried.
        _balance = _perSecond * _window;
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
