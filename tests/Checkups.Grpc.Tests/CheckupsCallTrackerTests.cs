using System;
using System.Net.Http;
using System.Threading.Tasks;
using Checkups.Execution;
using Checkups.Registry;
using Checkups.Status;
using Checkups.TestUtils;
using Grpc.Core;
using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.Time.Testing;

namespace Checkups.Grpc.Tests;

public sealed class CheckupsCallTrackerTests
{
    // Two servers: the last selectable server of an upstream is kept (reported unstable), never marked err.
    private static (UpstreamRegistry Registry, CheckupsCallTracker Tracker) Tracked(int maxFails = 1)
    {
        var registry = Upstreams.Registry("api", Upstreams.WithServers(Upstreams.Server(8001, maxFails: maxFails), Upstreams.Server(8002, maxFails: maxFails)));
        var tracker = new CheckupsCallTracker(registry.AcquireLease("api"), BalancerSettings.Default(new FakeTimeProvider()));
        tracker.Start();
        Assert.Equal("127.0.0.1:8001", tracker.ServerKey);
        return (registry, tracker);
    }

    [Theory]
    [InlineData(typeof(OperationCanceledException), LeaseOutcome.Cancelled)]
    [InlineData(typeof(TaskCanceledException), LeaseOutcome.Cancelled)]
    [InlineData(typeof(HttpRequestException), LeaseOutcome.Failure)]
    [InlineData(typeof(System.IO.IOException), LeaseOutcome.Failure)]
    public void OutcomeOf_TransportErrorsFail_CancellationsDoNot(Type error, LeaseOutcome expected) =>
        Assert.Equal(expected, CheckupsCallTracker.OutcomeOf((Exception)Activator.CreateInstance(error)!));

    [Fact]
    public void OutcomeOf_ConnectTimeout_IsAFailure_AndACancelledRpc_IsNot()
    {
        Assert.Equal(LeaseOutcome.Failure, CheckupsCallTracker.OutcomeOf(new TaskCanceledException("connect", new TimeoutException())));
        Assert.Equal(LeaseOutcome.Cancelled, CheckupsCallTracker.OutcomeOf(new RpcException(new global::Grpc.Core.Status(StatusCode.Cancelled, "gone"))));
        Assert.Equal(LeaseOutcome.Failure, CheckupsCallTracker.OutcomeOf(new RpcException(new global::Grpc.Core.Status(StatusCode.Unavailable, "down"))));
    }

    [Fact]
    public void Complete_WithError_IsAFailure_MarkingTheServerErr()
    {
        var (registry, tracker) = Tracked();
        using (registry)
        {
            tracker.Complete(new CompletionContext { Error = new HttpRequestException("connection refused") });

            var status = Upstreams.StatusOf(registry, 8001);
            Assert.Equal((HealthStatus.Err, 0), (status.Status, status.InFlight));
        }
    }

    [Fact]
    public void Complete_HeadersWithoutStatusHandler_IsASuccess()
    {
        var (registry, tracker) = Tracked();
        using (registry)
        {
            tracker.Complete(new CompletionContext());

            var status = Upstreams.StatusOf(registry, 8001);
            Assert.Equal((HealthStatus.Ok, 0, 0), (status.Status, status.FailCount, status.InFlight));
        }
    }

    [Fact]
    public void AwaitStatus_HeadersKeepTheCallInFlight_UntilTheStatusEndsIt()
    {
        var (registry, tracker) = Tracked();
        using (registry)
        {
            tracker.AwaitStatus();
            tracker.Complete(new CompletionContext());
            Assert.Equal(1, Upstreams.StatusOf(registry, 8001).InFlight);

            tracker.OnStatus(StatusCode.Unavailable);
            tracker.OnStatus(StatusCode.OK);

            var status = Upstreams.StatusOf(registry, 8001);
            Assert.Equal((HealthStatus.Err, 0), (status.Status, status.InFlight));
        }
    }

    [Fact]
    public void OnAbandoned_IsNeitherSuccessNorFailure()
    {
        var (registry, tracker) = Tracked(maxFails: 1);
        using (registry)
        {
            tracker.AwaitStatus();
            tracker.Complete(new CompletionContext());
            tracker.OnAbandoned();

            var status = Upstreams.StatusOf(registry, 8001);
            Assert.Equal((HealthStatus.Ok, 0, 0), (status.Status, status.FailCount, status.InFlight));
            Assert.True(tracker.IsFinished);
        }
    }
}
