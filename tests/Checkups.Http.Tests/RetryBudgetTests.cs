using System;
using System.Linq;
using System.Threading.Tasks;
using Checkups.Http;
using Microsoft.Extensions.Time.Testing;

namespace Checkups.Http.Tests;

/// <summary>The retry budget's arithmetic on a manual clock: deposits, the floor, the fading, and concurrent deposits.</summary>
public sealed class RetryBudgetTests
{
    private readonly FakeTimeProvider _time = new();

    private static int WithdrawAll(RetryBudget budget)
    {
        int taken = 0;
        for (int i = 0; i < 1_000_000 && budget.TryWithdraw(); i++)
        {
            taken++;
        }

        return taken;
    }

    [Fact]
    public void Deposits_EarnTheirShare_NoFloor_NoTime()
    {
        var budget = new RetryBudget(0.2, 0, TimeSpan.FromSeconds(10), _time);
        Assert.False(budget.TryWithdraw());

        for (int i = 0; i < 100; i++)
        {
            budget.Deposit();
        }

        Assert.Equal(20, WithdrawAll(budget));
    }

    [Fact]
    public void Deposits_FadeWithTheWindow_EvenWhenNothingHappensUntilTheWithdrawal()
    {
        var budget = new RetryBudget(1, 0, TimeSpan.FromSeconds(10), _time);
        for (int i = 0; i < 100; i++)
        {
            budget.Deposit();
        }

        // One window later, 100 · e⁻¹ = 36.8 are left.
        _time.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(36, WithdrawAll(budget));
    }

    [Fact]
    public void Deposits_SpreadOverTime_FadeEachFromWhenItWasMade()
    {
        var budget = new RetryBudget(1, 0, TimeSpan.FromSeconds(10), _time);

        // 10 deposits a second for 20 s: each fades from its own time; the exact sum is 10 · Σ e^(−k/10), k = 0.1 … 20.
        double exact = 0;
        for (int tick = 1; tick <= 200; tick++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            budget.Deposit();
            exact += Math.Exp(-(200 - tick) * 0.1 / 10);
        }

        int taken = WithdrawAll(budget);
        Assert.InRange(taken, (int)Math.Floor(exact * 0.99), (int)Math.Floor(exact * 1.01));
    }

    [Fact]
    public void TheFloor_FillsAQuietClient_UpToFloorTimesWindow()
    {
        var budget = new RetryBudget(0.2, 1, TimeSpan.FromSeconds(10), _time);

        // It starts full (1/s · 10 s), is emptied, and refills to 10 · (1 − e⁻¹) = 6.3 over one window.
        Assert.Equal(10, WithdrawAll(budget));
        _time.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(6, WithdrawAll(budget));
    }

    [Fact]
    public async Task ConcurrentDeposits_AreNeverLost_WhileWithdrawalsFoldThemIn()
    {
        // The clock stands still: nothing fades, so every half retry deposited must come out, during or after.
        var budget = new RetryBudget(0.5, 0, TimeSpan.FromSeconds(10), _time);
        var writers = Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (int i = 0; i < 10_000; i++)
            {
                budget.Deposit();
            }
        })).ToArray();
        int during = 0;
        var reader = Task.Run(() =>
        {
            for (int i = 0; i < 1_000_000 && !writers.All(w => w.IsCompleted); i++)
            {
                if (budget.TryWithdraw())
                {
                    during++;
                }
            }
        });

        await Task.WhenAll(writers);
        await reader;

        Assert.Equal(40_000, during + WithdrawAll(budget));
    }
}
