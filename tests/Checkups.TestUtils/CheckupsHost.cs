using System;
using System.Collections.Generic;
using Checkups.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Checkups.TestUtils;

/// <summary>A host as an application has one: its configuration holds <c>values</c> (replaceable, raising reloads), Checkups bound from its section.</summary>
public static class CheckupsHost
{
    public static (IHost Host, ReplaceableConfiguration Configuration, FakeLogCollector Logs) Build(
        IDictionary<string, string?> values, Action<IServiceCollection>? configure = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        var source = new ReplaceableConfiguration(values);
        ((IConfigurationBuilder)builder.Configuration).Add(source);
        var logs = new FakeLogCollector();
        builder.Logging.AddProvider(new FakeLoggerProvider(logs));
        builder.Services.AddSingleton<TimeProvider>(new FakeTimeProvider());
        builder.Services.AddCheckups(builder.Configuration.GetSection(CheckupsOptions.SectionName));
        configure?.Invoke(builder.Services);
        return (builder.Build(), source, logs);
    }
}
