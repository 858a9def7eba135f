using System;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Checkups with Microsoft.Extensions.Http.Resilience (Polly) on one HttpClient, in the order where neither multiplies the other.</summary>
public static class CheckupsResilienceExtensions
{
    /// <summary>
    /// Sends the client's requests through Checkups (<c>AddCheckups(upstream)</c>), then through the standard resilience
    /// handler, one pipeline per server: Checkups owns the retries across servers (<c>Try</c>, <c>TryTimeout</c>, its retry
    /// budget, passive health), and Polly keeps its rate limiter, its circuit breakers (one per server, since Checkups has
    /// already chosen the server when Polly sees the request) and its timeouts, with its own retries turned off. So a request
    /// makes at most <c>Try</c> attempts, not <c>Try</c> × Polly's. A Polly timeout or an open circuit is an attempt's failure
    /// for Checkups, which goes on to another server while its try timeout allows.
    /// </summary>
    /// <param name="builder">The client's builder.</param>
    /// <param name="upstream">The upstream the client's requests are addressed to (<c>http://upstream/…</c>).</param>
    /// <param name="configure">Sets Polly's options (its retries stay off: Checkups owns them).</param>
    /// <returns>The standard resilience handler's builder.</returns>
    public static IHttpStandardResiliencePipelineBuilder AddCheckupsWithResilience(this IHttpClientBuilder builder, string upstream, Action<HttpStandardResilienceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(upstream);
        builder.AddCheckups(upstream);
        builder.AddHttpMessageHandler(static () => new PollyOutcomes());
        return builder.AddStandardResilienceHandler(options =>
        {
            configure?.Invoke(options);

            // One attempt per server through Polly: retries across servers are Checkups'.
            options.Retry.ShouldHandle = static _ => PredicateResult.False();
        }).SelectPipelineByAuthority();
    }

    /// <summary>
    /// Between Checkups and Polly: Polly's refusals (its attempt or total timeout, an open circuit) reach Checkups as the
    /// transport failures they stand for, so the attempt counts against the server and the request goes to another one.
    /// </summary>
    private sealed class PollyOutcomes : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            try
            {
                return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (Polly.Timeout.TimeoutRejectedException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw new HttpRequestException("the resilience pipeline's timeout ran out: " + ex.Message, ex);
            }
            catch (Polly.CircuitBreaker.BrokenCircuitException ex)
            {
                throw new HttpRequestException("the server's circuit is open: " + ex.Message, ex);
            }
        }
    }
}
