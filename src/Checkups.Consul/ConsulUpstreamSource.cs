using System.Collections.Generic;
using System.Threading;
using Checkups.Configuration;
using Checkups.Sources;
using Microsoft.Extensions.Primitives;

namespace Checkups.Consul;

/// <summary>The source a watch feeds: it owns one upstream, or nothing while Consul has not given a usable list.</summary>
internal sealed class ConsulUpstreamSource : IUpstreamSource, IUpstreamSourceStatus, System.IDisposable
{
    private static readonly IReadOnlyDictionary<string, UpstreamOptions> Nothing = new Dictionary<string, UpstreamOptions>();

    private readonly object _gate = new();
    private readonly string _upstream;
    private IReadOnlyDictionary<string, UpstreamOptions> _upstreams = Nothing;
    private CancellationTokenSource _changed = new();

    private readonly System.Func<SourceStatus> _status;

    public ConsulUpstreamSource(string name, string upstream, System.Func<SourceStatus> status)
    {
        Name = name;
        _upstream = upstream;
        _status = status;
    }

    public SourceStatus GetSourceStatus() => _status();

    public string Name { get; }

    /// <summary>Gets the upstream last published, or <see langword="null"/>.</summary>
    public UpstreamOptions? Current
    {
        get
        {
            lock (_gate)
            {
                return _upstreams.GetValueOrDefault(_upstream);
            }
        }
    }

    public UpstreamSourceSnapshot GetSnapshot()
    {
        lock (_gate)
        {
            return new UpstreamSourceSnapshot(_upstreams, new CancellationChangeToken(_changed.Token));
        }
    }

    /// <summary>
    /// Hands the registry a new upstream (or none); the registry applies it before this returns, or rejects it and keeps
    /// the previous one.
    /// </summary>
    public void Publish(UpstreamOptions? upstream)
    {
        CancellationTokenSource fired;
        lock (_gate)
        {
            _upstreams = upstream is null ? Nothing : new Dictionary<string, UpstreamOptions>(System.StringComparer.Ordinal) { [_upstream] = upstream };
            fired = _changed;
            _changed = new CancellationTokenSource();
        }

        fired.Cancel();
        fired.Dispose();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _changed.Dispose();
        }
    }
}
