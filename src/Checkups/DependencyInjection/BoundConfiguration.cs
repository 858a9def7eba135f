using System;
using Checkups.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Checkups.DependencyInjection;

/// <summary>The configuration <c>AddCheckups</c> was given, and the root it belongs to when that can be told.</summary>
internal sealed class BoundConfiguration(IConfiguration configuration)
{
    public IConfiguration Configuration { get; } = configuration;

    /// <summary>
    /// The root the configuration belongs to: itself, or the application's root when the section was taken from it (the
    /// two then share one reload token). Null when it cannot be told; binding is then correct but slower for large lists.
    /// </summary>
    public IConfigurationRoot? FindRoot(IConfiguration? application) =>
        Configuration as IConfigurationRoot
        ?? (application is IConfigurationRoot root && ReferenceEquals(root.GetReloadToken(), Configuration.GetReloadToken()) ? root : null);
}

/// <summary>Binds the options from the configuration with the strict reader.</summary>
internal sealed class ConfigureFromConfiguration(BoundConfiguration bound, IConfiguration? application) : IConfigureOptions<CheckupsOptions>
{
    public void Configure(CheckupsOptions options) => CheckupsConfigurationReader.Bind(bound.Configuration, bound.FindRoot(application), options);
}
