using System;
using Microsoft.Extensions.Logging;

namespace Checkups.Consul;

/// <summary>Every log line of the Consul watches (category <c>Checkups.Consul</c>), with stable event ids from 201.</summary>
internal static partial class ConsulLog
{
    public const string Category = "Checkups.Consul";

    [LoggerMessage(EventIds.ValueWarning, LogLevel.Warning, "Consul watch of upstream {Upstream}: {Warning}")]
    public static partial void ValueWarning(ILogger logger, string upstream, string warning);

    [LoggerMessage(EventIds.ReadFailed, LogLevel.Warning, "Consul watch of upstream {Upstream}: reading {Path} failed ({Error}); the last good list stays, next try in {Backoff}")]
    public static partial void ReadFailed(ILogger logger, string upstream, string path, string error, TimeSpan backoff);

    [LoggerMessage(EventIds.Applied, LogLevel.Information, "Consul watch of upstream {Upstream}: applied {Servers} server(s) at index {Index} from {Agent}")]
    public static partial void Applied(ILogger logger, string upstream, int servers, ulong index, string agent);

    [LoggerMessage(EventIds.EmptyKept, LogLevel.Warning, "Consul watch of upstream {Upstream}: Consul lists no server ({Why}); {Outcome}: check the prefix or service name and that the ACL token may read it (set AllowEmpty to accept an empty list)")]
    public static partial void EmptyKept(ILogger logger, string upstream, string why, string outcome);

    [LoggerMessage(EventIds.IndexReset, LogLevel.Warning, "Consul watch of upstream {Upstream}: the index went back from {Previous} to {Current} (Consul's data was replaced); reading everything again")]
    public static partial void IndexReset(ILogger logger, string upstream, ulong previous, ulong current);

    [LoggerMessage(EventIds.Rejected, LogLevel.Error, "Consul watch of upstream {Upstream}: the list at index {Index} was rejected; the last good list stays")]
    public static partial void Rejected(ILogger logger, string upstream, ulong index);

    [LoggerMessage(EventIds.StartedFromDump, LogLevel.Warning, "Consul watch of upstream {Upstream}: Consul cannot be reached ({Error}); started from the dump {File}, and polling goes on")]
    public static partial void StartedFromDump(ILogger logger, string upstream, string file, string error);

    [LoggerMessage(EventIds.DumpFailed, LogLevel.Error, "Consul watch of upstream {Upstream}: the dump {File} could not be written: {Error}")]
    public static partial void DumpFailed(ILogger logger, string upstream, string file, string error);

    [LoggerMessage(EventIds.DumpUnreadable, LogLevel.Error, "Consul watch of upstream {Upstream}: the dump {File} cannot be read ({Error}); starting without it")]
    public static partial void DumpUnreadable(ILogger logger, string upstream, string file, string error);

    [LoggerMessage(EventIds.ValueRejected, LogLevel.Error, "Consul watch of upstream {Upstream}: the value of {Key} at index {Index} was rejected whole ({Reason}); the last good one stays")]
    public static partial void ValueRejected(ILogger logger, string upstream, string key, ulong index, string reason);
}
