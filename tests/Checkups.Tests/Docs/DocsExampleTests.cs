using System;
using System.IO;
using System.Text;
using Checkups.Configuration;
using Checkups.Registry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Checkups.Tests.Docs;

/// <summary>The examples the docs show are configurations the library accepts.</summary>
public sealed class DocsExampleTests
{
    private static string Docs(string file)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Checkups.sln")))
        {
            directory = directory.Parent;
        }

        return File.ReadAllText(Path.Combine(directory?.FullName ?? throw new InvalidOperationException("Checkups.sln not found"), "docs", file));
    }

    /// <summary>The first ```json block after <paramref name="heading"/>.</summary>
    private static string JsonBlockAfter(string markdown, string heading)
    {
        int at = markdown.IndexOf(heading, StringComparison.Ordinal);
        Assert.True(at >= 0, heading + " not found");
        int start = markdown.IndexOf("```json", at, StringComparison.Ordinal) + "```json".Length;
        int end = markdown.IndexOf("```", start, StringComparison.Ordinal);
        return markdown[start..end];
    }

    [Fact]
    public void ConfigurationExample_BindsAndBuildsARegistry()
    {
        string json = JsonBlockAfter(Docs("configuration.md"), "## Example (appsettings.json)");
        var configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build();
        var services = new ServiceCollection();
        services.AddCheckups(configuration.GetSection(CheckupsOptions.SectionName));
        using var provider = services.BuildServiceProvider();

        var registry = provider.GetRequiredService<UpstreamRegistry>();

        Assert.Equal(2, registry.Get("api").Clusters.Length);
        Assert.Equal(3, registry.Get("api").Clusters[0].Servers[0].Weight);
        Assert.Equal(BalancingModes.Hash, registry.Get("sessions").Mode);
    }

    [Fact]
    public void MigratingExamples_BindAndBuildARegistry()
    {
        string markdown = Docs("migrating.md");
        int checkedBlocks = 0;
        for (int at = markdown.IndexOf("```json", StringComparison.Ordinal); at >= 0; at = markdown.IndexOf("```json", at + 1, StringComparison.Ordinal))
        {
            int start = at + "```json".Length;
            string json = markdown[start..markdown.IndexOf("```", start, StringComparison.Ordinal)];
            if (!json.Contains("\"Checkups\"", StringComparison.Ordinal))
            {
                continue;
            }

            var configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build();
            var services = new ServiceCollection();
            services.AddCheckups(configuration.GetSection(CheckupsOptions.SectionName));
            using var provider = services.BuildServiceProvider();
            Assert.NotEmpty(provider.GetRequiredService<UpstreamRegistry>().GetStatus().Upstreams);
            checkedBlocks++;
        }

        Assert.True(checkedBlocks > 0, "migrating.md shows no appsettings example");
    }
}
