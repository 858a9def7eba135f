using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;

namespace Checkups.Diagnostics;

/// <summary>The instruments of the <c>Checkups</c> meter.</summary>
internal sealed class CheckupsMetrics : IDisposable
{
    public const string MeterName = "Checkups";

    private readonly Meter _meter;
    private readonly Histogram<double> _probeDuration;
    private readonly Histogram<double> _roundDuration;
    private readonly Counter<long> _statusChanges;

    public CheckupsMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _probeDuration = _meter.CreateHistogram<double>("checkups.heartbeat.probe.duration", "s", "How long one active probe took.");
        _roundDuration = _meter.CreateHistogram<double>("checkups.heartbeat.round.duration", "s", "How long one heartbeat round over every probed server took.");
        _statusChanges = _meter.CreateCounter<long>("checkups.heartbeat.status_changes", "{change}", "Active status changes of servers.");
    }

    public void ProbeCompleted(TimeSpan elapsed, string upstream, string type, string status) =>
        _probeDuration.Record(
            elapsed.TotalSeconds,
            new KeyValuePair<string, object?>("checkups.upstream", upstream),
            new KeyValuePair<string, object?>("checkups.probe.type", type),
            new KeyValuePair<string, object?>("checkups.status", status));

    public void RoundCompleted(TimeSpan elapsed) => _roundDuration.Record(elapsed.TotalSeconds);

    public void StatusChanged(string upstream, string status) =>
        _statusChanges.Add(
            1,
            new KeyValuePair<string, object?>("checkups.upstream", upstream),
            new KeyValuePair<string, object?>("checkups.status", status));

    public void Dispose() => _meter.Dispose();
}
