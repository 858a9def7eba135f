using System;
using System.Collections.Generic;

namespace Checkups.Http;

/// <summary>Which Host header a balanced request carries.</summary>
public enum CheckupsHostHeader
{
    /// <summary>The logical name the request was addressed to (the upstream), as nginx's <c>proxy_set_header Host $proxy_host</c>.</summary>
    LogicalName,

    /// <summary>The chosen server's <c>host:port</c>.</summary>
    Server,
}

/// <summary>Options of the Checkups handler of one HttpClient (named after the client).</summary>
public sealed class CheckupsHttpOptions
{
    /// <summary>Gets or sets the scheme requests are sent with.</summary>
    /// <value>Default <see langword="null"/>: the request's own scheme.</value>
    public string? Scheme { get; set; }

    /// <summary>Gets or sets which Host header a request carries (unless the request sets one).</summary>
    /// <value>
    /// Default <see langword="null"/>: <see cref="CheckupsHostHeader.LogicalName"/>, except on an upstream fed by
    /// ServiceDiscovery (owner <c>servicediscovery</c>), whose servers get their own authority, as ServiceDiscovery's
    /// handler sends them: a certificate issued for the endpoint's host (Aspire's for localhost) then validates.
    /// </value>
    public CheckupsHostHeader? HostHeader { get; set; }

    /// <summary>
    /// Gets or sets whether POST and PATCH requests are retried on another server too. Only requests whose content can be
    /// sent again are: content of a known length up to <see cref="MaxRetryContentBytes"/>, buffered before the first try.
    /// </summary>
    /// <value>Default <see langword="false"/>: only GET, HEAD, OPTIONS, PUT, DELETE and TRACE are retried.</value>
    public bool RetryNonIdempotent { get; set; }

    /// <summary>Gets or sets the largest request content buffered so that it can be sent again on a retry.</summary>
    /// <value>Default 1 MiB. Larger content, or content of unknown length, is sent once.</value>
    public long MaxRetryContentBytes { get; set; } = 1024 * 1024;

    /// <summary>Gets or sets the share of recent requests that may be retried (the retry budget); 0 allows the floor only.</summary>
    /// <value>Default 0.2 (20 %).</value>
    public double RetryBudgetRatio { get; set; } = 0.2;

    /// <summary>Gets or sets the retries a second the budget allows whatever the traffic (its floor).</summary>
    /// <value>Default 10.</value>
    public double RetryBudgetMinPerSecond { get; set; } = 10;

    /// <summary>Gets or sets how long a deposit counts: the budget's balance is what the requests of about this long earned.</summary>
    /// <value>Default 10 seconds.</value>
    public TimeSpan RetryBudgetWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Checks the options; throws naming every bad value.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        var errors = new List<string>();
        if (Scheme is not null && Scheme is not ("http" or "https"))
        {
            errors.Add($"Scheme must be http or https (was {Scheme})");
        }

        if (MaxRetryContentBytes < 0)
        {
            errors.Add($"MaxRetryContentBytes must not be negative (was {MaxRetryContentBytes})");
        }

        if (!double.IsFinite(RetryBudgetRatio) || RetryBudgetRatio < 0)
        {
            errors.Add($"RetryBudgetRatio must be a finite number from 0 (was {RetryBudgetRatio})");
        }

        if (!double.IsFinite(RetryBudgetMinPerSecond) || RetryBudgetMinPerSecond < 0)
        {
            errors.Add($"RetryBudgetMinPerSecond must be a finite number from 0 (was {RetryBudgetMinPerSecond})");
        }

        if (RetryBudgetWindow <= TimeSpan.Zero || RetryBudgetWindow > TimeSpan.FromDays(1))
        {
            errors.Add($"RetryBudgetWindow must be greater than zero and at most a day (was {RetryBudgetWindow})");
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid Checkups HTTP options: " + string.Join("; ", errors) + ".");
        }
    }
}
