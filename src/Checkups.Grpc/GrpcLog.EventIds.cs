namespace Checkups.Grpc;

internal static partial class GrpcLog
{
    /// <summary>The event id of each log line, by name: stable, never reused.</summary>
    internal static class EventIds
    {
        /// <summary>The id of <see cref="GrpcLog.UpstreamNotFound"/>.</summary>
        public const int UpstreamNotFound = 301;

        /// <summary>The id of <see cref="GrpcLog.ServersPublished"/>.</summary>
        public const int ServersPublished = 302;

        /// <summary>The id of <see cref="GrpcLog.PublishFailed"/>.</summary>
        public const int PublishFailed = 303;

        /// <summary>The id of <see cref="GrpcLog.NoConnectedServer"/>.</summary>
        public const int NoConnectedServer = 304;

        /// <summary>The id of <see cref="GrpcLog.NotCheckupsAddresses"/>.</summary>
        public const int NotCheckupsAddresses = 305;

        /// <summary>The id of <see cref="GrpcLog.InvalidSettings"/>.</summary>
        public const int InvalidSettings = 306;
    }
}
