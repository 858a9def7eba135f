using System.Text.Json.Serialization;
using Checkups.Configuration;

namespace Checkups.Consul;

/// <summary>Source-generated JSON for the upstreams a watch builds (their fingerprint, and the dump).</summary>
[JsonSourceGenerationOptions(
    PreferredObjectCreationHandling = JsonObjectCreationHandling.Populate,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(UpstreamOptions))]
internal sealed partial class ConsulJsonContext : JsonSerializerContext;
