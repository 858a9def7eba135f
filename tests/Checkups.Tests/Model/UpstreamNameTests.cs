using System;
using System.Linq;
using System.Text;
using Checkups.Configuration;
using Checkups.Model;
using Checkups.Registry;
using Checkups.TestUtils;

namespace Checkups.Tests.Model;

public sealed class UpstreamNameTests
{
    private const string Precomposed = "caf\u00e9";
    private const string Decomposed = "cafe\u0301";

    [Theory]
    [InlineData("a\u200bpi", "U+200B, an invisible format character, at position 1")]
    [InlineData("api\u0001", "U+0001, a control character")]
    [InlineData("\u202eipa", "U+202E, an invisible format character")]
    [InlineData("my\u00a0api", "U+00A0, a space other than U+0020")]
    [InlineData("a\u2028b", "a line break")]
    [InlineData("a\ue000b", "a private-use character")]
    [InlineData(" api", "must not begin or end with white space")]
    [InlineData("   ", "must not be empty or white space")]
    public void Problem_LookAlikeOrInvisibleCharacters_AreRefusedNamingTheCharacter(string name, string expected)
    {
        Assert.Contains(expected, UpstreamName.Problem(name), StringComparison.Ordinal);
    }

    [Fact]
    public void Problem_LoneSurrogate_IsRefused()
    {
        // Not in the theory above: the test runner's serialization of inline data replaces a lone surrogate.
        Assert.Contains("a lone surrogate U+D800", UpstreamName.Problem("a\ud800b"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("api")]
    [InlineData("img-process_2.eu")]
    [InlineData(Precomposed)]
    [InlineData(Decomposed)]
    [InlineData("my api")]
    [InlineData("\u5730\u56fe")]
    [InlineData("\U0001F680-launch")]
    public void Problem_OrdinaryNames_AreAccepted(string name)
    {
        Assert.Null(UpstreamName.Problem(name));
    }

    [Fact]
    public void Normalize_DecomposedName_IsPrecomposed_AndAsciiIsReturnedAsItIs()
    {
        Assert.Equal(Precomposed, UpstreamName.Normalize(Decomposed));
        const string ascii = "api";
        Assert.Same(ascii, UpstreamName.Normalize(ascii));
    }

    [Fact]
    public void Update_TwoSpellingsOfOneName_AreOneUpstream_FoundByEither()
    {
        using var registry = new UpstreamRegistry(new CheckupsOptions());

        registry.Update(Decomposed, Upstreams.WithServers(Upstreams.Server(8001)));
        registry.Update(Precomposed, Upstreams.WithServers(Upstreams.Server(8002)));

        var upstream = Assert.Single(registry.GetAll());
        Assert.Equal(Precomposed, upstream.Name);
        Assert.Equal(8002, registry.SelectPeer(Decomposed).Port);
        Assert.Same(registry.Get(Precomposed), registry.Get(Decomposed));
        Assert.Equal(new[] { Precomposed }, registry.GetStatus().Upstreams.Keys);
        Assert.True(registry.Delete(Decomposed));
        Assert.Empty(registry.GetAll());
    }

    [Fact]
    public void Update_InvisibleCharacterInTheName_IsRefusedWithItsPathEscaped()
    {
        using var registry = new UpstreamRegistry(new CheckupsOptions());

        var error = Assert.Throws<CheckupsValidationException>(() => registry.Update("a\u200bpi", Upstreams.WithServers(Upstreams.Server(8001))));

        Assert.Contains("Upstreams:a\\u200bpi: the upstream's name must not contain control or invisible characters (U+200B", error.Message, StringComparison.Ordinal);
        Assert.Empty(registry.GetAll());
    }

    [Fact]
    public void Configuration_TwoSpellingsOfOneName_AreRejectedWhole()
    {
        var options = new CheckupsOptions();
        options.Upstreams[Precomposed] = Upstreams.WithServers(Upstreams.Server(8001));
        options.Upstreams[Decomposed] = Upstreams.WithServers(Upstreams.Server(8002));

        var error = Assert.Throws<CheckupsValidationException>(() => new UpstreamRegistry(options));

        Assert.Contains("spelled another way", error.Message, StringComparison.Ordinal);
    }
}
