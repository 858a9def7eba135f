using System;
using Checkups.DependencyInjection;
using Checkups.Grpc;
using Checkups.Registry;
using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Grpc.Net.Client channels balanced by Checkups.</summary>
public static class CheckupsGrpcBuilderExtensions
{
    /// <summary>
    /// Registers the <c>checkups</c> resolver and load balancer of Grpc.Net.Client (<see cref="CheckupsResolverFactory"/> as
    /// a <see cref="ResolverFactory"/>, <see cref="CheckupsLoadBalancerFactory"/> as a <see cref="LoadBalancerFactory"/>),
    /// over the application's <see cref="UpstreamRegistry"/> and <see cref="TimeProvider"/>. A channel whose
    /// <c>ServiceProvider</c> is the application's then resolves <c>checkups://&lt;upstream&gt;</c>; create one with
    /// <see cref="CheckupsGrpc.CreateChannel"/>. Calling it twice registers them once.
    /// </summary>
    /// <param name="builder">The Checkups builder, from <c>services.AddCheckups(…)</c>.</param>
    /// <returns>The builder.</returns>
    public static ICheckupsBuilder AddGrpcBalancing(this ICheckupsBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ResolverFactory, CheckupsResolverFactory>(
            static provider => new CheckupsResolverFactory(provider.GetRequiredService<UpstreamRegistry>())));
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<LoadBalancerFactory, CheckupsLoadBalancerFactory>(
            static provider => new CheckupsLoadBalancerFactory(provider.GetRequiredService<UpstreamRegistry>(), provider.GetService<TimeProvider>())));
        return builder;
    }
}
