using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;

namespace Checkups.Tests.TestUtilities;

/// <summary>
/// A meter factory of one test's own: the meters it creates carry it as their scope, so a <see cref="MetricRecorder"/>
/// hears only what this test's instances emit, however many other tests use the same meter name in parallel.
/// </summary>
public sealed class TestMeterFactory : IMeterFactory
{
    private readonly List<Meter> _meters = new();

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(options.Name, options.Version, options.Tags, scope: this);
        lock (_meters)
        {
            _meters.Add(meter);
        }

        return meter;
    }

    public void Dispose()
    {
        lock (_meters)
        {
            _meters.ForEach(m => m.Dispose());
            _meters.Clear();
        }
    }
}

/// <summary>Records the measurements of the instruments created through one <see cref="TestMeterFactory"/>, and no other.</summary>
public sealed class MetricRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)> _measurements = new();

    public MetricRecorder(TestMeterFactory factory)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, factory))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>The tag <paramref name="tag"/> of every measurement of <paramref name="instrument"/>, in order.</summary>
    public IReadOnlyList<string?> Tags(string instrument, string tag) =>
        _measurements.Where(m => m.Instrument == instrument).Select(m => m.Tags.TryGetValue(tag, out var v) ? v as string : null).ToList();

    public int Count(string instrument) => _measurements.Count(m => m.Instrument == instrument);

    public void Dispose() => _listener.Dispose();

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
        _measurements.Enqueue((instrument.Name, value, new Dictionary<string, object?>(tags.ToArray())));
}
