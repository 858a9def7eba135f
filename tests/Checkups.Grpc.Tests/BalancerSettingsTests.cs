using System;
using System.Collections.Generic;
using Checkups.Execution;
using Grpc.Core;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.Time.Testing;

namespace Checkups.Grpc.Tests;

public sealed class BalancerSettingsTests
{
    [Fact]
    public void Default_UnavailableDeadlineAndResourceExhaustedFail_OthersSucceed_CancelledIsNeither()
    {
        var settings = BalancerSettings.Default(new FakeTimeProvider());

        Assert.Null(settings.HashHeader);
        Assert.Equal(LeaseOutcome.Failure, settings.OutcomeOf(StatusCode.Unavailable));
        Assert.Equal(LeaseOutcome.Failure, settings.OutcomeOf(StatusCode.DeadlineExceeded));
        Assert.Equal(LeaseOutcome.Failure, settings.OutcomeOf(StatusCode.ResourceExhausted));
        Assert.Equal(LeaseOutcome.Success, settings.OutcomeOf(StatusCode.OK));
        Assert.Equal(LeaseOutcome.Success, settings.OutcomeOf(StatusCode.NotFound));
        Assert.Equal(LeaseOutcome.Success, settings.OutcomeOf(StatusCode.Internal));
        Assert.Equal(LeaseOutcome.Success, settings.OutcomeOf((StatusCode)99));
        Assert.Equal(LeaseOutcome.Cancelled, settings.OutcomeOf(StatusCode.Cancelled));
    }

    [Fact]
    public void Read_TypedConfig_RoundTripsThroughThePolicyDictionary()
    {
        var config = new CheckupsLoadBalancingConfig { HashHeader = "x-shard-key", FailureStatusCodes = [StatusCode.Internal, StatusCode.Unavailable] };

        var settings = BalancerSettings.Read((IDictionary<string, object>)config.Inner[CheckupsGrpc.PolicyName], new FakeTimeProvider(), out string? problems);

        Assert.Null(problems);
        Assert.Equal("checkups", config.PolicyName);
        Assert.Equal("x-shard-key", settings.HashHeader);
        Assert.Equal(LeaseOutcome.Failure, settings.OutcomeOf(StatusCode.Internal));
        Assert.Equal(LeaseOutcome.Success, settings.OutcomeOf(StatusCode.DeadlineExceeded));
        Assert.Equal(new[] { StatusCode.Internal, StatusCode.Unavailable }, config.FailureStatusCodes);
    }

    [Fact]
    public void Read_JsonLikeValues_NamesInEitherSpellingAndNumbers()
    {
        var values = new Dictionary<string, object>
        {
            ["HashHeader"] = " x-user ",
            ["failureStatusCodes"] = new List<object> { "DEADLINE_EXCEEDED", "unavailable", 13.0, 8L },
        };

        var settings = BalancerSettings.Read(values, new FakeTimeProvider(), out string? problems);

        Assert.Null(problems);
        Assert.Equal("x-user", settings.HashHeader);
        foreach (var code in new[] { StatusCode.DeadlineExceeded, StatusCode.Unavailable, StatusCode.Internal, StatusCode.ResourceExhausted })
        {
            Assert.Equal(LeaseOutcome.Failure, settings.OutcomeOf(code));
        }
    }

    [Fact]
    public void Read_EveryProblemAtOnce_NamingTheKeyAndValue()
    {
        var values = new Dictionary<string, object>
        {
            ["hashHeadr"] = "x",
            ["failureStatusCodes"] = new List<object> { "OK", "CANCELLED", "NOPE", 42 },
        };

        var settings = BalancerSettings.Read(values, new FakeTimeProvider(), out string? problems);

        Assert.NotNull(problems);
        Assert.Contains("'hashHeadr' is not a setting", problems, StringComparison.Ordinal);
        Assert.Contains("failureStatusCodes[0]: OK is a success", problems, StringComparison.Ordinal);
        Assert.Contains("failureStatusCodes[1]: CANCELLED", problems, StringComparison.Ordinal);
        Assert.Contains("failureStatusCodes[2]: 'NOPE' is not a gRPC status code", problems, StringComparison.Ordinal);
        Assert.Contains("failureStatusCodes[3]: 42 is not a gRPC status code", problems, StringComparison.Ordinal);
        Assert.Null(settings.HashHeader);
    }

    [Fact]
    public void Config_RefusesStatusesThatCannotBeFailures_AndBlankHeaders()
    {
        var config = new CheckupsLoadBalancingConfig();

        Assert.Throws<ArgumentException>(() => config.FailureStatusCodes = [StatusCode.OK]);
        Assert.Throws<ArgumentException>(() => config.FailureStatusCodes = [StatusCode.Cancelled]);
        Assert.Throws<ArgumentException>(() => config.FailureStatusCodes = [(StatusCode)17]);
        Assert.Throws<ArgumentException>(() => config.HashHeader = " ");
        config.HashHeader = "x";
        config.HashHeader = null;
        Assert.Empty((IDictionary<string, object>)config.Inner[CheckupsGrpc.PolicyName]);
    }

    [Fact]
    public void Config_IsALoadBalancingConfig_ForTheServiceConfig()
    {
        var serviceConfig = new ServiceConfig { LoadBalancingConfigs = { new CheckupsLoadBalancingConfig() } };

        Assert.Equal(CheckupsGrpc.PolicyName, Assert.Single(serviceConfig.LoadBalancingConfigs).PolicyName);
    }
}
