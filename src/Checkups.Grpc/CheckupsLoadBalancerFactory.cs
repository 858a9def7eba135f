using System;
using System.Collections.Frozen;
using System.Collections.Generic;
using Checkups.Registry;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using GrpcStatus = Grpc.Core.Status;

namespace Checkups.Grpc;

/// <summary>
/// The <c>checkups</c> load balancing policy of Grpc.Net.Client: every call's server is picked by Checkups among the
/// connected ones, by the upstream's mode (weights, hashing, levels, least requests…) and health, and the call's outcome
/// feeds passive health. Works with addresses from <see cref="CheckupsResolverFactory"/>; register it as a
/// <see cref="LoadBalancerFactory"/> in the channel's <see cref="GrpcChannelOptions.ServiceProvider"/>
/// (<c>AddGrpcBalancing()</c> does) and name it in the channel's service config
/// (<see cref="CheckupsLoadBalancingConfig"/>).
/// </summary>
/// <remarks>
/// <para>
/// A pick acquires a Checkups lease (the call counts in flight) and returns that server's connection. A server whose
/// connection is not ready is released, not blamed, and the pick moves on to another server, at most once per server; when
/// no server Checkups can select is connected, the call waits while a connection is being made, and fails with
/// <see cref="StatusCode.Unavailable"/> otherwise. Checkups never sends a call to a server it would not select (<c>down</c>,
/// <c>err</c>), even when that server's connection is the only one ready.
/// </para>
/// <para>
/// The lease completes when the call ends: a transport error is a failure, a cancellation is neither a failure nor a
/// success, and the gRPC status decides the rest when the channel's handler chain holds a
/// <see cref="CheckupsGrpcStatusHandler"/> (<see cref="CheckupsGrpc.CreateChannel"/> puts one there); without it a call
/// that received response headers is a success.
/// </para>
/// </remarks>
public sealed class CheckupsLoadBalancerFactory : LoadBalancerFactory
{
    private readonly UpstreamRegistry _registry;
    private readonly TimeProvider _time;

    /// <summary>Initializes the factory over <paramref name="registry"/>.</summary>
    /// <param name="registry">The registry whose upstreams channels are addressed to (the resolver's).</param>
    /// <param name="time">The clock calls are timed with for latency; <see langword="null"/> for the system clock.</param>
    public CheckupsLoadBalancerFactory(UpstreamRegistry registry, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _registry = registry;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Gets the policy name: <see cref="CheckupsGrpc.PolicyName"/>.</summary>
    /// <value><c>checkups</c>.</value>
    public override string Name => CheckupsGrpc.PolicyName;

    /// <summary>Creates the balancer of one channel.</summary>
    /// <param name="options">The channel's controller, logger factory and the policy's settings.</param>
    /// <returns>The balancer.</returns>
    public override LoadBalancer Create(LoadBalancerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var loggerFactory = options.LoggerFactory ?? NullLoggerFactory.Instance;
        var logger = loggerFactory.CreateLogger(GrpcLog.Category);
        var settings = BalancerSettings.Read(options.Configuration, _time, out string? problems);
        if (problems is not null)
        {
            GrpcLog.InvalidSettings(logger, problems);
        }

        return new CheckupsLoadBalancer(options.Controller, loggerFactory, logger, _registry, settings, problems);
    }
}

/// <summary>
/// Grpc.Net.Client's subchannel bookkeeping (one connection per address, kept across resolver updates) with a Checkups
/// picker. It stands between the base class and the channel's controller to learn two things the base class keeps to
/// itself: the state of every subchannel (so a pick that finds nothing connected knows whether to wait), and when a picker
/// of its own is replaced (so a stale one stops leasing).
/// </summary>
internal sealed class CheckupsLoadBalancer : SubchannelsLoadBalancer
{
    private readonly SubchannelStates _states;
    private readonly ILogger _logger;
    private readonly UpstreamRegistry _registry;
    private readonly BalancerSettings _settings;
    private readonly string? _settingsProblem;

    public CheckupsLoadBalancer(IChannelControlHelper controller, ILoggerFactory loggerFactory, ILogger logger, UpstreamRegistry registry, BalancerSettings settings, string? settingsProblem)
        : this(new SubchannelStates(controller), loggerFactory, logger, registry, settings, settingsProblem)
    {
    }

    private CheckupsLoadBalancer(SubchannelStates states, ILoggerFactory loggerFactory, ILogger logger, UpstreamRegistry registry, BalancerSettings settings, string? settingsProblem)
        : base(states, loggerFactory)
    {
        _states = states;
        _logger = logger;
        _registry = registry;
        _settings = settings;
        _settingsProblem = settingsProblem;
    }

    protected override SubchannelPicker CreatePicker(IReadOnlyList<Subchannel> readySubchannels)
    {
        if (_settingsProblem is not null)
        {
            return new FailingPicker(new GrpcStatus(StatusCode.Internal, $"The checkups load balancing config is invalid: {_settingsProblem}"));
        }

        string? upstream = null;
        var ready = new Dictionary<string, Subchannel>(readySubchannels.Count, StringComparer.Ordinal);
        foreach (var subchannel in readySubchannels)
        {
            var address = subchannel.CurrentAddress ?? FirstAddress(subchannel);
            if (address is null
                || !address.Attributes.TryGetValue(ServerAttributes.ServerKey, out string? key)
                || !address.Attributes.TryGetValue(ServerAttributes.Upstream, out string? name))
            {
                GrpcLog.NotCheckupsAddresses(_logger, string.Join(", ", readySubchannels));
                return new FailingPicker(new GrpcStatus(StatusCode.Internal, "The checkups load balancer needs the addresses of the checkups resolver: address the channel as checkups://<upstream>."));
            }

            upstream ??= name;
            ready.TryAdd(key, subchannel);
        }

        return new CheckupsPicker(_registry, upstream!, ready.ToFrozenDictionary(StringComparer.Ordinal), _states.NotReady(), _settings, _logger);
    }

    private static BalancerAddress? FirstAddress(Subchannel subchannel)
    {
        var addresses = subchannel.GetAddresses();
        return addresses.Count > 0 ? addresses[0] : null;
    }

    /// <summary>
    /// The channel's controller as the base class sees it: subchannels it creates are watched (the first state handler,
    /// so their state is known before the base class builds the next picker), and a picker of ours that gives way to any
    /// other is retired.
    /// </summary>
    private sealed class SubchannelStates : IChannelControlHelper
    {
        private readonly IChannelControlHelper _inner;
        private readonly Dictionary<Subchannel, ConnectivityState> _states = new();
        private CheckupsPicker? _installed;

        public SubchannelStates(IChannelControlHelper inner) => _inner = inner;

        public Subchannel CreateSubchannel(SubchannelOptions options)
        {
            var subchannel = _inner.CreateSubchannel(options);
            lock (_states)
            {
                _states[subchannel] = ConnectivityState.Idle;
            }

            subchannel.OnStateChanged(state =>
            {
                lock (_states)
                {
                    if (state.State == ConnectivityState.Shutdown)
                    {
                        _states.Remove(subchannel);
                    }
                    else
                    {
                        _states[subchannel] = state.State;
                    }
                }
            });
            return subchannel;
        }

        public void UpdateState(BalancerState state)
        {
            _inner.UpdateState(state);
            CheckupsPicker? retired;
            lock (_states)
            {
                retired = _installed;
                _installed = state.Picker as CheckupsPicker;
            }

            if (retired is not null && !ReferenceEquals(retired, state.Picker))
            {
                retired.Retire();
            }
        }

        public void RefreshResolver() => _inner.RefreshResolver();

        /// <summary>The subchannels not ready now, by server key, with their state.</summary>
        public FrozenDictionary<string, ConnectivityState> NotReady()
        {
            var notReady = new Dictionary<string, ConnectivityState>(StringComparer.Ordinal);
            lock (_states)
            {
                foreach (var (subchannel, state) in _states)
                {
                    if (state != ConnectivityState.Ready
                        && FirstAddress(subchannel) is { } address
                        && address.Attributes.TryGetValue(ServerAttributes.ServerKey, out string? key))
                    {
                        notReady[key] = state;
                    }
                }
            }

            return notReady.ToFrozenDictionary(StringComparer.Ordinal);
        }
    }

    /// <summary>A picker that fails every call with one status (a misconfigured channel).</summary>
    private sealed class FailingPicker(GrpcStatus status) : SubchannelPicker
    {
        public override PickResult Pick(PickContext context) => PickResult.ForFailure(status);
    }
}
