using System;
using System.Threading;
using System.Threading.Tasks;

namespace Checkups.Health.Probes;

/// <summary>A probe made of a delegate (<c>AddHealthProbe(type, delegate)</c>).</summary>
internal sealed class DelegateProbe(string type, Func<ProbeContext, CancellationToken, ValueTask<ProbeResult>> probe) : IHealthProbe
{
    public string Type { get; } = type;

    public ValueTask<ProbeResult> ProbeAsync(ProbeContext context, CancellationToken cancellationToken) => probe(context, cancellationToken);
}
