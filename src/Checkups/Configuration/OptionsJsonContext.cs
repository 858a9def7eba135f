using System.Text.Json.Serialization;

namespace Checkups.Configuration;

/// <summary>Source-generated JSON for options: used to tell whether a reloaded upstream changed.</summary>
[JsonSerializable(typeof(UpstreamOptions))]
internal sealed partial class OptionsJsonContext : JsonSerializerContext;
