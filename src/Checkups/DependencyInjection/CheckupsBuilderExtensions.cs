using System;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Balancing;
using Checkups.DependencyInjection;
using Checkups.Health.Probes;
using Checkups.Sources;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Further Checkups registrations: custom health probes, sources and balancing modes.</summary>
public static class CheckupsBuilderExtensions
{
    /// <summary>Registers a probe made of a delegate; upstreams use it with <c>Heartbeat:Type</c> = <paramref name="type"/>.</summary>
    /// <param name="builder">The Checkups builder.</param>
    /// <param name="type">The probe type name (replaces a built-in probe of the same name).</param>
    /// <param name="probe">Probes one server; an exception counts as a failed probe.</param>
    /// <returns>The builder.</returns>
    public static ICheckupsBuilder AddHealthProbe(this ICheckupsBuilder builder, string type, Func<ProbeContext, CancellationToken, ValueTask<ProbeResult>> probe)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(type);
        ArgumentNullException.ThrowIfNull(probe);
        builder.Services.AddSingleton<IHealthProbe>(new DelegateProbe(type, probe));
        return builder;
    }

    /// <summary>
    /// Registers a source of upstreams resolved from the container: the registry applies what it holds when it is built and
    /// follows its changes; the source owns the upstreams it lists (see <see cref="IUpstreamSource"/>).
    /// </summary>
    /// <typeparam name="TSource">The source.</typeparam>
    /// <param name="builder">The Checkups builder.</param>
    /// <returns>The builder.</returns>
    public static ICheckupsBuilder AddUpstreamSource<TSource>(this ICheckupsBuilder builder)
        where TSource : class, IUpstreamSource
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IUpstreamSource, TSource>());
        return builder;
    }

    /// <summary>Registers a probe type resolved from the container; upstreams use it by its <see cref="IHealthProbe.Type"/>.</summary>
    /// <typeparam name="TProbe">The probe.</typeparam>
    /// <param name="builder">The Checkups builder.</param>
    /// <returns>The builder.</returns>
    public static ICheckupsBuilder AddHealthProbe<TProbe>(this ICheckupsBuilder builder)
        where TProbe : class, IHealthProbe
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHealthProbe, TProbe>());
        return builder;
    }

    /// <summary>
    /// Registers a balancing mode resolved from the container: upstreams name it in <c>Mode</c>, and it builds the
    /// selector of each of their clusters (see <see cref="BalancingMode"/>).
    /// </summary>
    /// <typeparam name="TMode">The mode.</typeparam>
    /// <param name="builder">The Checkups builder.</param>
    /// <returns>The builder.</returns>
    public static ICheckupsBuilder AddBalancingMode<TMode>(this ICheckupsBuilder builder)
        where TMode : BalancingMode
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<BalancingMode, TMode>());
        return builder;
    }

    /// <summary>Registers a balancing mode instance; upstreams name it in <c>Mode</c>.</summary>
    /// <param name="builder">The Checkups builder.</param>
    /// <param name="mode">The mode.</param>
    /// <returns>The builder.</returns>
    public static ICheckupsBuilder AddBalancingMode(this ICheckupsBuilder builder, BalancingMode mode)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(mode);
        builder.Services.AddSingleton(mode);
        return builder;
    }
}
