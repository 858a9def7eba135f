using System;
using Microsoft.Extensions.Logging;

namespace Checkups.Diagnostics;

/// <summary>Every log line Checkups writes, with stable event ids.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Error, "Checkups configuration reload rejected; the previous upstreams stay in force. {Reason}")]
    public static partial void ConfigurationReloadRejected(ILogger logger, string reason, Exception? exception);

    [LoggerMessage(2, LogLevel.Information, "Upstreams changed at version {Version}: updated [{Updated}], removed [{Removed}]")]
    public static partial void UpstreamsChanged(ILogger logger, long version, string updated, string removed);

    [LoggerMessage(3, LogLevel.Warning, "Server {Server} of upstream {Upstream} marked err after {MaxFails} failures; out of rotation for {FailTimeout}")]
    public static partial void PeerMarkedErr(ILogger logger, string server, string upstream, int maxFails, TimeSpan failTimeout);

    [LoggerMessage(4, LogLevel.Error, "A handler of UpstreamRegistry.Changed threw; the change itself is applied")]
    public static partial void ChangeHandlerFailed(ILogger logger, Exception exception);
}
