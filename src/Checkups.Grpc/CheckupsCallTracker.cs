using System;
using System.Threading;
using Checkups.Execution;
using Grpc.Core;
using Grpc.Net.Client.Balancer;

namespace Checkups.Grpc;

/// <summary>
/// Ends the Checkups lease of one call attempt exactly once, with its outcome: Grpc.Net.Client reports the transport's end
/// (<see cref="Complete"/>, when the response headers arrive or sending failed), and <see cref="CheckupsGrpcStatusHandler"/>,
/// when the channel has one, reports the gRPC status that ends the call (trailers). Without the handler, headers mean
/// success.
/// </summary>
internal sealed class CheckupsCallTracker : ISubchannelCallTracker
{
    private const int Issued = 0;
    private const int Started = 1;
    private const int Finished = 2;

    private readonly UpstreamLease _lease;
    private readonly BalancerSettings _settings;
    private long _startedAt;
    private TimeSpan _toHeaders;
    private bool _headersArrived;
    private bool _awaitsStatus;
    private int _state;

    public CheckupsCallTracker(UpstreamLease lease, BalancerSettings settings)
    {
        _lease = lease;
        _settings = settings;
    }

    /// <summary>Gets the key of the leased server.</summary>
    public string ServerKey => _lease.Server.Key;

    /// <summary>Gets whether the lease was completed.</summary>
    public bool IsFinished => Volatile.Read(ref _state) == Finished;

    public void Start()
    {
        _startedAt = _settings.Time.GetTimestamp();
        Interlocked.CompareExchange(ref _state, Started, Issued);
    }

    public void Complete(CompletionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var elapsed = Elapsed();
        if (context.Error is { } error)
        {
            Finish(OutcomeOf(error), elapsed, error);
            return;
        }

        // The latency a selector learns is the time to the response headers: for a unary call the server's work, for a
        // stream its start (a long stream says nothing of the server's speed).
        _toHeaders = elapsed;
        _headersArrived = true;
        if (!_awaitsStatus)
        {
            Finish(LeaseOutcome.Success, elapsed, null);
        }
    }

    /// <summary>The status handler holds the response: the lease ends with the call's status, not with the headers.</summary>
    internal void AwaitStatus() => _awaitsStatus = true;

    /// <summary>The call ended with <paramref name="code"/> (trailers, or a trailers-only response).</summary>
    internal void OnStatus(StatusCode code) => Finish(_settings.OutcomeOf(code), LatencyNow(), null);

    /// <summary>Reading the response failed (the stream was reset, the connection dropped) or was cancelled.</summary>
    internal void OnReadFailed(Exception error) => Finish(OutcomeOf(error), LatencyNow(), error);

    /// <summary>The response was let go before its end, without a status: the caller stopped the call.</summary>
    internal void OnAbandoned() => Finish(LeaseOutcome.Cancelled, LatencyNow(), null);

    /// <summary>Gives the lease back when the channel dropped this pick before starting a call on it.</summary>
    internal void ReleaseIfUnstarted()
    {
        if (Interlocked.CompareExchange(ref _state, Finished, Issued) == Issued)
        {
            _lease.Complete(LeaseOutcome.Cancelled);
        }
    }

    /// <summary>A transport error is the server's failure; a cancellation (the caller's, or the deadline's) is not.</summary>
    internal static LeaseOutcome OutcomeOf(Exception error) => error switch
    {
        // A connect timeout surfaces as a cancellation caused by a TimeoutException: the server did not answer.
        OperationCanceledException { InnerException: TimeoutException } => LeaseOutcome.Failure,
        OperationCanceledException => LeaseOutcome.Cancelled,
        RpcException { StatusCode: StatusCode.Cancelled } => LeaseOutcome.Cancelled,
        _ => LeaseOutcome.Failure,
    };

    private TimeSpan Elapsed() => Volatile.Read(ref _state) == Issued ? TimeSpan.Zero : _settings.Time.GetElapsedTime(_startedAt);

    private TimeSpan LatencyNow() => _headersArrived ? _toHeaders : Elapsed();

    private void Finish(LeaseOutcome outcome, TimeSpan elapsed, Exception? error)
    {
        if (Interlocked.Exchange(ref _state, Finished) != Finished)
        {
            _lease.Complete(outcome, elapsed, error);
        }
    }
}
