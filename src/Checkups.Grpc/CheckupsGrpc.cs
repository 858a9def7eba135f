using System;
using System.Collections.Generic;
using System.Net.Http;
using Checkups.Model;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;

namespace Checkups.Grpc;

/// <summary>Grpc.Net.Client channels over Checkups upstreams: the names the integration registers, and a channel in one call.</summary>
public static class CheckupsGrpc
{
    /// <summary>The address scheme of channels over an upstream (<c>checkups://&lt;upstream&gt;</c>), the name of <see cref="CheckupsResolverFactory"/>.</summary>
    public const string Scheme = "checkups";

    /// <summary>The load balancing policy name, the name of <see cref="CheckupsLoadBalancerFactory"/>.</summary>
    public const string PolicyName = "checkups";

    /// <summary>
    /// The channel address of <paramref name="upstream"/>: <c>checkups://name</c> when the name is an ASCII host name, else
    /// <c>checkups:///name</c> with the name escaped (spaces, underscores, non-ASCII letters…).
    /// </summary>
    /// <param name="upstream">The upstream name.</param>
    /// <returns>The address.</returns>
    /// <exception cref="ArgumentException">The name is not a usable upstream name.</exception>
    public static Uri AddressOf(string upstream)
    {
        if (UpstreamName.Problem(upstream) is { } problem)
        {
            throw new ArgumentException($"'{upstream}' is not an upstream name: it {problem}.", nameof(upstream));
        }

        return IsPlainHostName(upstream)
            ? new Uri(string.Concat(Scheme, "://", upstream))
            : new Uri(string.Concat(Scheme, ":///", Uri.EscapeDataString(upstream)));
    }

    /// <summary>
    /// Creates a channel over <paramref name="upstream"/> balanced by Checkups: address <see cref="AddressOf"/>, the
    /// <c>checkups</c> policy, a <see cref="CheckupsGrpcStatusHandler"/> over a <see cref="SocketsHttpHandler"/> (so calls'
    /// gRPC statuses reach passive health), plaintext HTTP/2 unless <paramref name="configure"/> sets credentials.
    /// </summary>
    /// <param name="services">
    /// The application's services, holding the two factories (<c>services.AddCheckups(…).AddGrpcBalancing()</c>); the
    /// channel keeps it as its <see cref="GrpcChannelOptions.ServiceProvider"/>.
    /// </param>
    /// <param name="upstream">The upstream name. It need not exist yet: calls fail with UNAVAILABLE naming it until it does.</param>
    /// <param name="configure">
    /// Changes the options before the channel is built. Defaults: <see cref="GrpcChannelOptions.Credentials"/>
    /// <see cref="ChannelCredentials.Insecure"/> (h2c; set <see cref="ChannelCredentials.SecureSsl"/> for TLS, whose
    /// certificates must then be valid for each server's host as configured); <see cref="GrpcChannelOptions.ServiceConfig"/>
    /// with one <see cref="CheckupsLoadBalancingConfig"/> (replace it to set <c>hashHeader</c> or
    /// <c>failureStatusCodes</c>, add method configs for retries); <see cref="GrpcChannelOptions.HttpHandler"/> a
    /// <see cref="CheckupsGrpcStatusHandler"/> over a <see cref="SocketsHttpHandler"/> with multiple HTTP/2 connections. A
    /// handler set here is wrapped in a <see cref="CheckupsGrpcStatusHandler"/> unless it holds one; a service config with no
    /// load balancing config gets the <c>checkups</c> one.
    /// </param>
    /// <returns>The channel; dispose it when done.</returns>
    /// <exception cref="ArgumentException">The name is not a usable upstream name, or <paramref name="configure"/> set an <see cref="GrpcChannelOptions.HttpClient"/> (client-side balancing needs a handler).</exception>
    /// <exception cref="InvalidOperationException"><paramref name="services"/> has no <see cref="CheckupsResolverFactory"/> (AddGrpcBalancing() was not called).</exception>
    public static GrpcChannel CreateChannel(IServiceProvider services, string upstream, Action<GrpcChannelOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var address = AddressOf(upstream);
        if (!HasCheckupsResolver(services))
        {
            throw new InvalidOperationException("The service provider has no Checkups gRPC factories: call services.AddCheckups(…).AddGrpcBalancing().");
        }

        var options = new GrpcChannelOptions
        {
            ServiceProvider = services,
            Credentials = ChannelCredentials.Insecure,
            ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new CheckupsLoadBalancingConfig() } },
        };
        configure?.Invoke(options);
        if (options.HttpClient is not null)
        {
            throw new ArgumentException("GrpcChannelOptions.HttpClient cannot carry client-side balancing: set HttpHandler (a SocketsHttpHandler, or handlers over one) instead.", nameof(configure));
        }

        options.ServiceProvider ??= services;
        options.ServiceConfig ??= new ServiceConfig();
        if (options.ServiceConfig.LoadBalancingConfigs.Count == 0)
        {
            options.ServiceConfig.LoadBalancingConfigs.Add(new CheckupsLoadBalancingConfig());
        }

        options.HttpHandler = options.HttpHandler switch
        {
            null => new CheckupsGrpcStatusHandler(new SocketsHttpHandler { EnableMultipleHttp2Connections = true }),
            var handler when Holds<CheckupsGrpcStatusHandler>(handler) => handler,
            var handler => new CheckupsGrpcStatusHandler(handler),
        };
        return GrpcChannel.ForAddress(address, options);
    }

    /// <summary>The upstream a channel address names: its host, or for <c>checkups:///name</c> its path, unescaped.</summary>
    internal static string UpstreamOf(Uri address)
    {
        if (!string.Equals(address.Scheme, Scheme, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"The address '{address.OriginalString}' is not a Checkups address: write {Scheme}://<upstream>.", nameof(address));
        }

        string name = address.Host;
        if (string.IsNullOrEmpty(name))
        {
            name = Uri.UnescapeDataString(address.AbsolutePath.Trim('/'));
        }

        if (UpstreamName.Problem(name) is { } problem)
        {
            throw new ArgumentException($"The address '{address.OriginalString}' names no upstream ('{name}' {problem}): write {Scheme}://<upstream> or {Scheme}:///<upstream>.", nameof(address));
        }

        return name;
    }

    /// <summary>Whether <paramref name="name"/> reads the same as a URI host: ASCII letters, digits, dots and hyphens in DNS form.</summary>
    private static bool IsPlainHostName(string name)
    {
        foreach (char c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not '-' and not '.')
            {
                return false;
            }
        }

        return Uri.CheckHostName(name) == UriHostNameType.Dns;
    }

    private static bool HasCheckupsResolver(IServiceProvider services)
    {
        if (services.GetService(typeof(IEnumerable<ResolverFactory>)) is IEnumerable<ResolverFactory> factories)
        {
            foreach (var factory in factories)
            {
                if (factory is CheckupsResolverFactory)
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool Holds<THandler>(HttpMessageHandler? handler)
    {
        for (; handler is not null; handler = (handler as DelegatingHandler)?.InnerHandler)
        {
            if (handler is THandler)
            {
                return true;
            }
        }

        return false;
    }
}
