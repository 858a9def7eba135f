namespace Checkups.Consul;

internal static partial class ConsulLog
{
    /// <summary>
    /// The event id of each log line, by name: stable, never reused (tests assert them through these names).
    /// </summary>
    internal static class EventIds
    {
        /// <summary>The id of <see cref="ConsulLog.ValueWarning"/>.</summary>
        public const int ValueWarning = 201;

        /// <summary>The id of <see cref="ConsulLog.ReadFailed"/>.</summary>
        public const int ReadFailed = 202;

        /// <summary>The id of <see cref="ConsulLog.Applied"/>.</summary>
        public const int Applied = 203;

        /// <summary>The id of <see cref="ConsulLog.EmptyKept"/>.</summary>
        public const int EmptyKept = 204;

        /// <summary>The id of <see cref="ConsulLog.IndexReset"/>.</summary>
        public const int IndexReset = 205;

        /// <summary>The id of <see cref="ConsulLog.Rejected"/>.</summary>
        public const int Rejected = 206;

        /// <summary>The id of <see cref="ConsulLog.StartedFromDump"/>.</summary>
        public const int StartedFromDump = 207;

        /// <summary>The id of <see cref="ConsulLog.DumpFailed"/>.</summary>
        public const int DumpFailed = 208;

        /// <summary>The id of <see cref="ConsulLog.DumpUnreadable"/>.</summary>
        public const int DumpUnreadable = 209;

        /// <summary>The id of <see cref="ConsulLog.ValueRejected"/>.</summary>
        public const int ValueRejected = 210;
    }
}
