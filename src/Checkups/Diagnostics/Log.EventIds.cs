namespace Checkups.Diagnostics;

internal static partial class Log
{
    /// <summary>
    /// The event id of each log line, by name: stable, never reused (tests assert them through these names).
    /// </summary>
    internal static class EventIds
    {
        /// <summary>The id of <see cref="Log.ConfigurationReloadRejected"/>.</summary>
        public const int ConfigurationReloadRejected = 1;

        /// <summary>The id of <see cref="Log.UpstreamsChanged"/>.</summary>
        public const int UpstreamsChanged = 2;

        /// <summary>The id of <see cref="Log.ServerMarkedErr"/>.</summary>
        public const int ServerMarkedErr = 3;

        /// <summary>The id of <see cref="Log.ChangeHandlerFailed"/>.</summary>
        public const int ChangeHandlerFailed = 4;

        /// <summary>The id of <see cref="Log.ServerStatusChanged"/>.</summary>
        public const int ServerStatusChanged = 5;

        /// <summary>The id of <see cref="Log.ServerRecovered"/>.</summary>
        public const int ServerRecovered = 6;

        /// <summary>The id of <see cref="Log.UpstreamProtected"/>.</summary>
        public const int UpstreamProtected = 7;

        /// <summary>The id of <see cref="Log.HeartbeatRoundFailed"/>.</summary>
        public const int HeartbeatRoundFailed = 8;

        /// <summary>The id of <see cref="Log.ConfigurationSectionMissing"/>.</summary>
        public const int ConfigurationSectionMissing = 9;

        /// <summary>The id of <see cref="Log.SourceChangeRejected"/>.</summary>
        public const int SourceChangeRejected = 10;

        // 11 is retired: a configuration file that cannot be read is a rejected reload (1).

        /// <summary>The id of <see cref="Log.FirstRoundStillRunning"/>.</summary>
        public const int FirstRoundStillRunning = 12;
    }
}
