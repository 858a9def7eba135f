using System;

namespace Checkups.AspNetCore;

/// <summary>How <c>MapCheckupsAdmin</c> exposes the admin API and the status page.</summary>
public sealed class CheckupsAdminOptions
{
    /// <summary>The default source name of the admin API's changes.</summary>
    public const string DefaultSourceName = "admin";

    /// <summary>
    /// Gets or sets the authorization policy every endpoint requires; <see langword="null"/> for the host's default policy
    /// (<c>AuthorizationOptions.DefaultPolicy</c>, an authenticated user unless the host changed it).
    /// </summary>
    /// <value>Default <see langword="null"/>.</value>
    public string? AuthorizationPolicy { get; set; }

    /// <summary>
    /// Gets or sets whether anyone may use the endpoints, without authorization. Only for a port that nothing else
    /// reaches (a loopback demo): the API changes where traffic goes.
    /// </summary>
    /// <value>Default <see langword="false"/>.</value>
    public bool AllowAnonymous { get; set; }

    /// <summary>Gets or sets the largest request body accepted; a larger one is answered 413.</summary>
    /// <value>Default 1 MiB; 1 to 100 MiB.</value>
    public long MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Gets or sets the source name the API's changes are made as (the owner of the upstreams it creates).</summary>
    /// <value>Default <c>admin</c>.</value>
    public string SourceName { get; set; } = DefaultSourceName;

    /// <summary>Checks every option.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public void Validate()
    {
        if (MaxBodyBytes is < 1 or > 100 * 1024 * 1024)
        {
            throw new ArgumentException($"MaxBodyBytes must be from 1 byte to 100 MiB (was {MaxBodyBytes})");
        }

        if (string.IsNullOrWhiteSpace(SourceName))
        {
            throw new ArgumentException("SourceName must not be empty");
        }

        if (AuthorizationPolicy is { } policy && string.IsNullOrWhiteSpace(policy))
        {
            throw new ArgumentException("AuthorizationPolicy must be null (the default policy) or a policy name");
        }
    }
}
