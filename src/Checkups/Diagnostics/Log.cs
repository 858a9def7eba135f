using System;
using Microsoft.Extensions.Logging;

namespace Checkups.Diagnostics;

/// <summary>Every log line Checkups writes, with stable event ids.</summary>
internal static partial class Log
{
    [LoggerMessage(EventIds.ConfigurationReloadRejected, LogLevel.Error, "Checkups configuration reload rejected; the previous upstreams stay in force. {Reason}")]
    public static partial void ConfigurationReloadRejected(ILogger logger, string reason, Exception? exception);

    [LoggerMessage(EventIds.UpstreamsChanged, LogLevel.Information, "Upstreams changed at version {Version} by source {Source}: updated [{Updated}], removed [{Removed}]")]
    public static partial void UpstreamsChanged(ILogger logger, long version, string source, string updated, string removed);

    [LoggerMessage(EventIds.ServerMarkedErr, LogLevel.Warning, "Server {Server} of upstream {Upstream} marked err after {MaxFails} failure(s); out of rotation for {FailTimeout}")]
    public static partial void ServerMarkedErr(ILogger logger, string server, string upstream, int maxFails, TimeSpan failTimeout);

    [LoggerMessage(EventIds.ChangeHandlerFailed, LogLevel.Error, "A handler of UpstreamRegistry.Changed threw; the change itself is applied")]
    public static partial void ChangeHandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventIds.ServerStatusChanged, LogLevel.Warning, "Heartbeat: server {Server} of upstream {Upstream} is now {Status} (was {Previous}): {Message}")]
    public static partial void ServerStatusChanged(ILogger logger, string server, string upstream, string status, string previous, string? message);

    [LoggerMessage(EventIds.ServerRecovered, LogLevel.Information, "Heartbeat: server {Server} of upstream {Upstream} is {Status} again (was {Previous})")]
    public static partial void ServerRecovered(ILogger logger, string server, string upstream, string status, string previous);

    [LoggerMessage(EventIds.UpstreamProtected, LogLevel.Warning, "Heartbeat: every server of upstream {Upstream} failed its probe; {Server} is kept selectable (protected)")]
    public static partial void UpstreamProtected(ILogger logger, string upstream, string server);

    [LoggerMessage(EventIds.HeartbeatRoundFailed, LogLevel.Error, "Heartbeat round failed; the loop goes on")]
    public static partial void HeartbeatRoundFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventIds.ConfigurationSectionMissing, LogLevel.Warning, "Checkups configuration reload ignored: the section {Path} (or its Upstreams) is gone, as when a file is deleted, emptied or truncated; the last good configuration stays in force. To remove every upstream, give an explicit empty Upstreams section")]
    public static partial void ConfigurationSectionMissing(ILogger logger, string path);

    [LoggerMessage(EventIds.SourceChangeRejected, LogLevel.Error, "A change from upstream source {Source} was rejected; its previous upstreams stay in force. {Reason}")]
    public static partial void SourceChangeRejected(ILogger logger, string source, string reason, Exception? exception);

    // 11 is retired: a configuration file that cannot be read is a rejected reload (1), with the file and the reason.

    [LoggerMessage(EventIds.FirstRoundStillRunning, LogLevel.Warning, "Heartbeat: the first round is still running after {Bound}; the host starts now and the round finishes in the background")]
    public static partial void FirstRoundStillRunning(ILogger logger, TimeSpan bound);
}
