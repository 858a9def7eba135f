using System;
using Microsoft.Extensions.Logging;

namespace Checkups.Grpc;

/// <summary>Every log line of the gRPC integration (category <c>Checkups.Grpc</c>), with stable event ids from 301.</summary>
internal static partial class GrpcLog
{
    /// <summary>The log category.</summary>
    public const string Category = "Checkups.Grpc";

    [LoggerMessage(EventIds.UpstreamNotFound, LogLevel.Warning, "gRPC channel {Address}: Checkups has no upstream named {Upstream}; calls fail with UNAVAILABLE until it exists")]
    public static partial void UpstreamNotFound(ILogger logger, string address, string upstream);

    [LoggerMessage(EventIds.ServersPublished, LogLevel.Debug, "gRPC channel {Address}: {Count} server(s) of upstream {Upstream} published (registry version {Version})")]
    public static partial void ServersPublished(ILogger logger, string address, int count, string upstream, long version);

    [LoggerMessage(EventIds.PublishFailed, LogLevel.Error, "gRPC channel {Address}: the channel threw while taking the servers of upstream {Upstream}")]
    public static partial void PublishFailed(ILogger logger, string address, string upstream, Exception exception);

    [LoggerMessage(EventIds.NoConnectedServer, LogLevel.Debug, "gRPC call on upstream {Upstream}: no server Checkups can select is connected ({Servers}); {Outcome}")]
    public static partial void NoConnectedServer(ILogger logger, string upstream, string servers, string outcome);

    [LoggerMessage(EventIds.NotCheckupsAddresses, LogLevel.Error, "The checkups load balancer was given addresses that did not come from the checkups resolver ({Addresses}): address the channel as checkups://<upstream>")]
    public static partial void NotCheckupsAddresses(ILogger logger, string addresses);

    [LoggerMessage(EventIds.InvalidSettings, LogLevel.Error, "The checkups load balancing config is invalid: {Problem}; every call of the channel fails with it")]
    public static partial void InvalidSettings(ILogger logger, string problem);
}
