using System;
using Checkups.Yarp;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Checkups in YARP's proxy pipeline.</summary>
public static class CheckupsProxyPipelineExtensions
{
    /// <summary>
    /// Forwards requests of clusters bound to a Checkups upstream through Checkups' attempt engine: each attempt goes to the
    /// server the upstream's mode picks among its healthy ones, with an attempt timeout within the try timeout; a failure
    /// before the response has started is reported and, for a request that can be sent again (an idempotent method, a
    /// buffered body), retried on another destination. Other clusters go on down the pipeline. Put it last in
    /// <c>MapReverseProxy(proxy => …)</c>; with it, YARP's load balancing step is not needed for bound clusters.
    /// </summary>
    /// <param name="proxy">The proxy pipeline.</param>
    /// <returns>The pipeline.</returns>
    /// <exception cref="InvalidOperationException"><c>AddReverseProxy().AddCheckups()</c> was not called.</exception>
    public static IReverseProxyApplicationBuilder UseCheckups(this IReverseProxyApplicationBuilder proxy)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        var forwarding = proxy.ApplicationServices.GetService<CheckupsForwarding>()
            ?? throw new InvalidOperationException("UseCheckups needs AddReverseProxy().AddCheckups() in the services.");
        proxy.Use(next => context => forwarding.InvokeAsync(context, next));
        return proxy;
    }
}
