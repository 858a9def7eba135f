using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using Checkups.Execution;
using Grpc.Core;

namespace Checkups.Grpc;

/// <summary>
/// The settings of one <c>checkups</c> balancer, read once from its load balancing config: where a call's hash key comes
/// from, which gRPC statuses are server failures, and the clock calls are timed with.
/// </summary>
internal sealed class BalancerSettings
{
    public const string HashHeaderKey = "hashHeader";
    public const string FailureStatusCodesKey = "failureStatusCodes";

    private static readonly StatusCode[] DefaultFailureStatusCodes = [StatusCode.Unavailable, StatusCode.DeadlineExceeded, StatusCode.ResourceExhausted];

    // Indexed by status code (0 to 16): a lookup per call without hashing.
    private readonly bool[] _failures = new bool[(int)StatusCode.Unauthenticated + 1];

    private BalancerSettings(string? hashHeader, IEnumerable<StatusCode> failureStatusCodes, TimeProvider time)
    {
        HashHeader = hashHeader;
        Time = time;
        foreach (var code in failureStatusCodes)
        {
            _failures[(int)code] = true;
        }
    }

    /// <summary>Gets the header named by the config, or <see langword="null"/> for the upstream's own.</summary>
    public string? HashHeader { get; }

    /// <summary>Gets the clock calls are timed with.</summary>
    public TimeProvider Time { get; }

    /// <summary>The defaults, for a balancer created without settings.</summary>
    public static BalancerSettings Default(TimeProvider time) => new(null, DefaultFailureStatusCodes, time);

    /// <summary>How a call that ended with <paramref name="code"/> counts for its server.</summary>
    public LeaseOutcome OutcomeOf(StatusCode code) => code switch
    {
        StatusCode.OK => LeaseOutcome.Success,
        StatusCode.Cancelled => LeaseOutcome.Cancelled,
        _ when (uint)code < (uint)_failures.Length && _failures[(int)code] => LeaseOutcome.Failure,
        _ => LeaseOutcome.Success,
    };

    /// <summary>Why <paramref name="code"/> cannot be a failure status, or <see langword="null"/> when it can.</summary>
    public static string? WhyNotFailureStatus(StatusCode code) => code switch
    {
        StatusCode.OK => "OK is a success, not a failure status",
        StatusCode.Cancelled => "CANCELLED is the caller's choice, never the server's failure",
        < StatusCode.OK or > StatusCode.Unauthenticated => string.Create(CultureInfo.InvariantCulture, $"{(int)code} is not a gRPC status code (0 to 16)"),
        _ => null,
    };

    /// <summary>
    /// Reads the settings of a load balancing config (typed by <see cref="CheckupsLoadBalancingConfig"/>, or plain values
    /// from a JSON service config). Every problem is gathered into <paramref name="problems"/>; the settings are then the
    /// defaults.
    /// </summary>
    public static BalancerSettings Read(IDictionary<string, object>? configuration, TimeProvider time, out string? problems)
    {
        problems = null;
        if (configuration is null || configuration.Count == 0)
        {
            return Default(time);
        }

        string? hashHeader = null;
        IEnumerable<StatusCode> failures = DefaultFailureStatusCodes;
        var errors = new List<string>();
        foreach (var (key, value) in configuration)
        {
            if (string.Equals(key, HashHeaderKey, StringComparison.OrdinalIgnoreCase))
            {
                if (value is string header && !string.IsNullOrWhiteSpace(header))
                {
                    hashHeader = header.Trim();
                }
                else if (value is not null)
                {
                    errors.Add($"{HashHeaderKey} must be a header name (was '{value}')");
                }
            }
            else if (string.Equals(key, FailureStatusCodesKey, StringComparison.OrdinalIgnoreCase))
            {
                failures = ReadStatusCodes(value, errors);
            }
            else
            {
                errors.Add($"'{key}' is not a setting of the checkups policy (known: {HashHeaderKey}, {FailureStatusCodesKey})");
            }
        }

        if (errors.Count > 0)
        {
            problems = string.Join("; ", errors);
            return Default(time);
        }

        return new BalancerSettings(hashHeader, failures, time);
    }

    private static List<StatusCode> ReadStatusCodes(object? value, List<string> errors)
    {
        var codes = new List<StatusCode>();
        if (value is null or string or not IEnumerable)
        {
            errors.Add($"{FailureStatusCodesKey} must be a list of gRPC status codes (was '{value}')");
            return codes;
        }

        int index = 0;
        foreach (object? item in (IEnumerable)value)
        {
            StatusCode? code = item switch
            {
                StatusCode typed => typed,
                int number => (StatusCode)number,
                long number when number is >= int.MinValue and <= int.MaxValue => (StatusCode)(int)number,
                double number when number == Math.Floor(number) && number is >= int.MinValue and <= int.MaxValue => (StatusCode)(int)number,
                string name => ParseName(name),
                _ => null,
            };
            if (code is null)
            {
                errors.Add($"{FailureStatusCodesKey}[{index}]: '{item}' is not a gRPC status code (a name such as UNAVAILABLE, or a number)");
            }
            else if (WhyNotFailureStatus(code.Value) is { } problem)
            {
                errors.Add($"{FailureStatusCodesKey}[{index}]: {problem}");
            }
            else
            {
                codes.Add(code.Value);
            }

            index++;
        }

        return codes;
    }

    /// <summary>A status by its proto name (<c>DEADLINE_EXCEEDED</c>) or its C# name (<c>DeadlineExceeded</c>).</summary>
    private static StatusCode? ParseName(string name)
    {
        string compact = name.Replace("_", string.Empty, StringComparison.Ordinal).Trim();
        if (compact.Length == 0 || char.IsDigit(compact[0]) || compact[0] == '-')
        {
            return int.TryParse(compact, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int number) ? (StatusCode)number : null;
        }

        return Enum.TryParse<StatusCode>(compact, ignoreCase: true, out var code) ? code : null;
    }
}
