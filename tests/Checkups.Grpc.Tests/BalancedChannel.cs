using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Registry;
using Checkups.TestUtils;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Checkups.Grpc.Tests;

/// <summary>
/// An application's side of the tests: Checkups registered with AddGrpcBalancing(), an upstream set at run time, and a
/// channel from CheckupsGrpc.CreateChannel. The registry's clock is a manual one, so fail timeouts never end on their own.
/// </summary>
public sealed class BalancedChannel : IDisposable
{
    /// <summary>The per-call deadline: every call is bounded, so a test never waits on a call for ever.</summary>
    public static readonly TimeSpan CallDeadline = TimeSpan.FromSeconds(15);

    private BalancedChannel(ServiceProvider services, GrpcChannel channel)
    {
        Services = services;
        Registry = services.GetRequiredService<UpstreamRegistry>();
        Channel = channel;
        Invoker = channel.CreateCallInvoker();
    }

    public ServiceProvider Services { get; }

    public UpstreamRegistry Registry { get; }

    public GrpcChannel Channel { get; }

    public CallInvoker Invoker { get; }

    public static ServiceProvider NewServices()
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(new FakeTimeProvider());
        services.AddCheckups(_ => { }).AddGrpcBalancing();
        return services.BuildServiceProvider();
    }

    /// <summary>A channel over <paramref name="name"/>, set to <paramref name="upstream"/> first when given.</summary>
    public static BalancedChannel Create(string name, UpstreamOptions? upstream, Action<GrpcChannelOptions>? configure = null)
    {
        var services = NewServices();
        if (upstream is not null)
        {
            services.GetRequiredService<UpstreamRegistry>().Update(name, upstream);
        }

        return new BalancedChannel(services, CheckupsGrpc.CreateChannel(services, name, configure));
    }

    public static UpstreamOptions Upstream(IEnumerable<GrpcBackend> backends, params int[] weights) =>
        Upstreams.WithServers(backends.Select((b, i) => Upstreams.Server(b.Port, weight: weights.Length > i ? weights[i] : 1)).ToArray());

    public async Task<string> CallAsync(string? key = null, string header = "x-shard-key", Method<string, string>? method = null)
    {
        var headers = key is null ? null : new Metadata { { header, key } };
        var options = new CallOptions(headers, DateTime.UtcNow + CallDeadline);
        if ((method ?? GrpcBackend.Name).Type == MethodType.ServerStreaming)
        {
            using var stream = Invoker.AsyncServerStreamingCall(method!, null, options, "hi");
            string first = string.Empty;
            while (await stream.ResponseStream.MoveNext(default))
            {
                first = first.Length == 0 ? stream.ResponseStream.Current : first;
            }

            return first;
        }

        using var call = Invoker.AsyncUnaryCall(method ?? GrpcBackend.Name, null, options, "hi");
        return await call.ResponseAsync;
    }

    /// <summary><paramref name="count"/> calls in sequence: answers by server name, failures by status.</summary>
    public async Task<(Dictionary<string, int> Answers, List<string> Failures)> CallManyAsync(int count, Func<int, string?>? key = null, Method<string, string>? method = null)
    {
        var answers = new Dictionary<string, int>();
        var failures = new List<string>();
        for (int i = 0; i < count; i++)
        {
            try
            {
                string server = await CallAsync(key?.Invoke(i), method: method);
                answers[server] = answers.GetValueOrDefault(server) + 1;
            }
            catch (RpcException ex)
            {
                failures.Add($"call {i}: {ex.StatusCode} {ex.Status.Detail}");
            }
        }

        return (answers, failures);
    }

    /// <summary>
    /// Calls until every one of <paramref name="servers"/> has answered (each connection is up), bounded by a count and a
    /// deadline that a slow machine does not reach; failures along the way are returned. Each call has its own hash key, so
    /// hashing modes spread them too.
    /// </summary>
    public async Task<List<string>> WarmUpAsync(params string[] servers)
    {
        var seen = new HashSet<string>();
        var failures = new List<string>();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 5_000 && clock.Elapsed < TimeSpan.FromSeconds(60) && !servers.All(seen.Contains); i++)
        {
            try
            {
                seen.Add(await CallAsync("warm-up-" + i));
            }
            catch (RpcException ex)
            {
                failures.Add($"{ex.StatusCode} {ex.Status.Detail}");
                await UntilReadyAsync();
            }
        }

        Assert.True(servers.All(seen.Contains), $"warm-up: {string.Join(",", servers.Except(seen))} never answered; failures: {string.Join(" | ", failures.Take(5))}");
        return failures;
    }

    /// <summary>
    /// Waits (bounded by <see cref="CallDeadline"/>) until the channel is ready, which is what a failed call waits for
    /// before the next: the channel's own signal, not a delay. Returns at once when it is ready already.
    /// </summary>
    public async Task UntilReadyAsync()
    {
        using var bound = new CancellationTokenSource(CallDeadline);
        try
        {
            await Channel.ConnectAsync(bound.Token);
        }
        catch (OperationCanceledException) when (bound.IsCancellationRequested)
        {
            // Not ready within the bound: the caller's next call fails and says why.
        }
    }

    public void Dispose()
    {
        Channel.Dispose();
        Services.Dispose();
    }
}
