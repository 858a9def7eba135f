using System;

namespace Checkups.Balancing;

/// <summary>
/// Randomness for the selectors that draw (fastest response, power of two choices, local first's spill-over). The shared
/// source is thread-safe and unseeded; simulations and tests inject a seeded one to make every draw repeatable.
/// </summary>
internal sealed class RandomSource
{
    private readonly Random _random;
    private readonly bool _serialize;

    private RandomSource(Random random, bool serialize)
    {
        _random = random;
        _serialize = serialize;
    }

    public static RandomSource Shared { get; } = new(Random.Shared, serialize: false);

    /// <summary>A repeatable source; draws are serialised so concurrent callers cannot corrupt it.</summary>
    public static RandomSource Seeded(int seed) => new(new Random(seed), serialize: true);

    /// <summary>A value in [0, <paramref name="maxExclusive"/>).</summary>
    public long NextInt64(long maxExclusive)
    {
        if (!_serialize)
        {
            return _random.NextInt64(maxExclusive);
        }

        lock (_random)
        {
            return _random.NextInt64(maxExclusive);
        }
    }

    /// <summary>63 random bits: a value in [0, <see cref="long.MaxValue"/>).</summary>
    public long NextInt64()
    {
        if (!_serialize)
        {
            return _random.NextInt64();
        }

        lock (_random)
        {
            return _random.NextInt64();
        }
    }

    /// <summary>A value in [0, 1).</summary>
    public double NextDouble()
    {
        if (!_serialize)
        {
            return _random.NextDouble();
        }

        lock (_random)
        {
            return _random.NextDouble();
        }
    }
}
