using System;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using Checkups.Configuration;
using Checkups.Http;
using Checkups.Registry;

namespace Checkups.Benchmarks;

/// <summary>
/// The handler's own cost per request, without a network: an inner handler that answers at once, called through an
/// <see cref="HttpMessageInvoker"/> directly and through the Checkups handler.
/// </summary>
[MemoryDiagnoser]
public class HttpHandlerBenchmarks
{
    private UpstreamRegistry _registry = null!;
    private HttpMessageInvoker _plain = null!;
    private HttpMessageInvoker _balanced = null!;

    [GlobalSetup]
    public void Setup()
    {
        var options = new CheckupsOptions();
        var upstream = new UpstreamOptions();
        upstream.Servers.Add(new ServerOptions { Host = "127.0.0.1", Port = 8080 });
        options.Upstreams.Add("api", upstream);
        _registry = new UpstreamRegistry(options);
        _plain = new HttpMessageInvoker(new Answering());
        _balanced = new HttpMessageInvoker(new CheckupsHttpHandler(_registry, "api") { InnerHandler = new Answering() });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _plain.Dispose();
        _balanced.Dispose();
        _registry.Dispose();
    }

    [Benchmark(Baseline = true)]
    public async Task<HttpStatusCode> Plain()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://127.0.0.1:8080/items?id=1");
        using var response = await _plain.SendAsync(request, CancellationToken.None);
        return response.StatusCode;
    }

    [Benchmark]
    public async Task<HttpStatusCode> ThroughCheckups()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://api/items?id=1");
        using var response = await _balanced.SendAsync(request, CancellationToken.None);
        return response.StatusCode;
    }

    /// <summary>Answers 200 at once, reading what a real handler reads of the address.</summary>
    private sealed class Answering : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            _ = request.RequestUri!.IdnHost;
            _ = request.RequestUri.PathAndQuery;
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
        }
    }
}
