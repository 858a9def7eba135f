using System;
using System.Collections.Generic;
using Grpc.Core;
using Grpc.Net.Client.Configuration;

namespace Checkups.Grpc;

/// <summary>
/// The <c>checkups</c> load balancing policy with its settings, for <see cref="ServiceConfig.LoadBalancingConfigs"/>. The
/// settings live in the policy's own dictionary (<see cref="ConfigObject.Inner"/>), under the names a JSON service config
/// uses: <c>hashHeader</c> and <c>failureStatusCodes</c>.
/// </summary>
public sealed class CheckupsLoadBalancingConfig : LoadBalancingConfig
{
    /// <summary>Initializes the policy with the default settings.</summary>
    public CheckupsLoadBalancingConfig()
        : base(CheckupsGrpc.PolicyName)
    {
    }

    /// <summary>
    /// Gets or sets the request header (gRPC metadata key) whose value is the hash key of a call, for the hashing modes of
    /// the upstream (<c>hash</c>, <c>header_hash</c>…). Metadata keys are lowercase on the wire; the lookup ignores case.
    /// </summary>
    /// <value>
    /// Default <see langword="null"/>: the upstream's <c>Hash:Header</c>; when neither is set a call has no key (round robin
    /// in <c>hash</c> mode, the method path in <c>header_hash</c> and <c>url_hash</c> modes).
    /// </value>
    /// <exception cref="ArgumentException">The value is empty or white space.</exception>
    public string? HashHeader
    {
        get => Settings.TryGetValue(BalancerSettings.HashHeaderKey, out object? value) ? value as string : null;
        set
        {
            if (value is null)
            {
                Settings.Remove(BalancerSettings.HashHeaderKey);
                return;
            }

            ArgumentException.ThrowIfNullOrWhiteSpace(value);
            Settings[BalancerSettings.HashHeaderKey] = value;
        }
    }

    /// <summary>
    /// Gets or sets the gRPC statuses that count as a failure of the server in passive health when a call ends with them
    /// (read from the response's trailers by <see cref="CheckupsGrpcStatusHandler"/>). <c>OK</c> and every other status
    /// count as a success (the server answered), and <c>CANCELLED</c> as neither.
    /// </summary>
    /// <value>
    /// Default <see langword="null"/>: <c>UNAVAILABLE</c>, <c>DEADLINE_EXCEEDED</c> and <c>RESOURCE_EXHAUSTED</c>. An empty
    /// list counts no status as a failure (transport errors still count).
    /// </value>
    /// <exception cref="ArgumentException">The list holds <c>OK</c>, <c>CANCELLED</c> or a code that is not a gRPC status.</exception>
    public IReadOnlyList<StatusCode>? FailureStatusCodes
    {
        get => Settings.TryGetValue(BalancerSettings.FailureStatusCodesKey, out object? value) ? value as StatusCode[] : null;
        set
        {
            if (value is null)
            {
                Settings.Remove(BalancerSettings.FailureStatusCodesKey);
                return;
            }

            var codes = new StatusCode[value.Count];
            for (int i = 0; i < codes.Length; i++)
            {
                if (BalancerSettings.WhyNotFailureStatus(value[i]) is { } problem)
                {
                    throw new ArgumentException($"{BalancerSettings.FailureStatusCodesKey}[{i}]: {problem}", nameof(value));
                }

                codes[i] = value[i];
            }

            Settings[BalancerSettings.FailureStatusCodesKey] = codes;
        }
    }

    private IDictionary<string, object> Settings => (IDictionary<string, object>)Inner[CheckupsGrpc.PolicyName];
}
