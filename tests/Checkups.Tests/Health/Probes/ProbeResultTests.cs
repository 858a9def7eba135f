using System.Collections.Generic;
using Checkups.Health.Probes;

namespace Checkups.Tests.Health.Probes;

public sealed class ProbeResultTests
{
    [Fact]
    public void Sanitized_ServerText_EscapesControlFormatAndLoneSurrogates_KeepsPairs_AndCaps()
    {
        string hostile = "bad\r\nX-Injected: 1\u202Eevil\u2028\ud800 ok \U0001F600";
        var result = ProbeResult.Failure(hostile, new Dictionary<string, string> { ["role"] = "master\u001b[31m" }).Sanitized();

        Assert.Equal("bad\\u000d\\u000aX-Injected: 1\\u202eevil\\u2028\\ud800 ok \U0001F600", result.Message);
        Assert.Equal("master\\u001b[31m", result.Fields["role"]);
    }

    [Fact]
    public void Sanitized_LongText_IsCutAtTheCap_NeverInsideASurrogatePair()
    {
        string text = new string('a', ProbeResult.MaxText - 1) + "\U0001F600" + new string('b', 100);

        var result = ProbeResult.Failure(text).Sanitized();

        Assert.Equal(new string('a', ProbeResult.MaxText - 1) + "…", result.Message);
    }

    [Fact]
    public void Sanitized_CleanText_IsTheSameResult()
    {
        var result = ProbeResult.Failure("Connection refused");

        Assert.Same(result, result.Sanitized());
    }
}
