using Checkups.TestUtils;

namespace Checkups.Tests.Health.Probes;

/// <summary>One MariaDB server for the tests of the collection (xunit finds collection definitions in the tests' assembly only).</summary>
[CollectionDefinition(Name)]
public sealed class MariaDbFixtureDefinition : ICollectionFixture<MariaDbServer>
{
    public const string Name = "MariaDB";
}
