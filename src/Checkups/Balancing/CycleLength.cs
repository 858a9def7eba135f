using System;

namespace Checkups.Balancing;

/// <summary>
/// The length of a precomputed cycle, and a cursor's position in it without a 64-bit division (tens of cycles on the
/// pick's path): the quotient is estimated with the length's reciprocal in double precision and corrected by one step,
/// exact for every cursor below 2^52 (a century of picks at a billion a second).
/// </summary>
internal readonly struct CycleLength
{
    private readonly long _length;
    private readonly double _reciprocal;

    public CycleLength(int length)
    {
        _length = Math.Max(1, length);
        _reciprocal = 1.0 / _length;
    }

    /// <summary>Returns <paramref name="position"/> modulo the length (a non-negative position).</summary>
    public int Of(long position)
    {
        long remainder = position - ((long)(position * _reciprocal) * _length);
        if (remainder < 0)
        {
            remainder += _length;
        }
        else if (remainder >= _length)
        {
            remainder -= _length;
        }

        return (int)remainder;
    }
}
