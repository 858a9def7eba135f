using System;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Threading.Tasks;
using System.Xml.Linq;

namespace Checkups.Packaging.Tests;

/// <summary>
/// The packages: packed from this build (no rebuild), with their metadata, XML docs and symbol packages; then
/// restored from a local folder into a throwaway project that uses a type of each, built and run.
/// </summary>
public sealed class PackageTests
{
    private static readonly string[] Packages = { "Checkups", "Checkups.Http", "Checkups.Consul", "Checkups.AspNetCore", "Checkups.Yarp", "Checkups.Grpc", "Checkups.ServiceDiscovery" };

    [Fact]
    public async Task EveryPackage_PacksWithMetadata_AndRestoresIntoAThrowawayProject()
    {
        string root = Command.RepositoryRoot();
        string configuration = typeof(PackageTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var work = Directory.CreateTempSubdirectory("checkups-packages-");
        try
        {
            // A version of its own, so the restore below can only find these packages, never an older copy.
            string version = "0.1.0-pkgtest." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", System.Globalization.CultureInfo.InvariantCulture);
            string feed = Path.Combine(work.FullName, "feed");
            foreach (string package in Packages)
            {
                await Command.RunAsync(root, "dotnet", "pack", Path.Combine(root, "src", package, package + ".csproj"), "--no-build", "-c", configuration, "-o", feed, "-p:PackageVersion=" + version, "-nologo");
            }

            foreach (string package in Packages)
            {
                string nupkg = Path.Combine(feed, $"{package}.{version}.nupkg");
                Assert.True(File.Exists(nupkg), nupkg + " was not produced");
                Assert.True(File.Exists(Path.Combine(feed, $"{package}.{version}.snupkg")), package + " has no symbol package");
                using var archive = ZipFile.OpenRead(nupkg);
                var names = archive.Entries.Select(e => e.FullName).ToList();
                Assert.Contains("README.md", names);
                Assert.Contains("LICENSE", names);
                Assert.Contains($"lib/net8.0/{package}.xml", names);
                Assert.Contains($"lib/net10.0/{package}.dll", names);
                using var nuspec = archive.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
                var metadata = XDocument.Load(nuspec).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
                string Value(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value ?? string.Empty;
                Assert.Equal("BSD-2-Clause", Value("license"));
                Assert.Equal("README.md", Value("readme"));
                Assert.False(string.IsNullOrWhiteSpace(Value("description")), package + " has no description");
                Assert.Contains("checkups", Value("tags"), StringComparison.Ordinal);
                var repository = metadata.Elements().Single(e => e.Name.LocalName == "repository");
                Assert.Equal("git", repository.Attribute("type")?.Value);
                Assert.Matches("^[0-9a-f]{40}$", repository.Attribute("commit")?.Value ?? string.Empty);
            }

            string app = Path.Combine(work.FullName, "app");
            Directory.CreateDirectory(app);
            string globalPackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } set
                ? set
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            await File.WriteAllTextAsync(Path.Combine(app, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="checkups-local" value="{feed}" />
                  </packageSources>
                </configuration>
                """);
            await File.WriteAllTextAsync(Path.Combine(app, "app.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
                    <RestorePackagesPath>{Path.Combine(work.FullName, "packages")}</RestorePackagesPath>
                    <RestoreFallbackFolders>{globalPackages}</RestoreFallbackFolders>
                  </PropertyGroup>
                  <ItemGroup>
                {string.Concat(Packages.Select(p => $"    <PackageReference Include=\"{p}\" Version=\"{version}\" />\n"))}  </ItemGroup>
                </Project>
                """);
            await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), """
                using System;
                using Checkups.AspNetCore;
                using Checkups.Configuration;
                using Checkups.Consul;
                using Checkups.Grpc;
                using Checkups.Http;
                using Checkups.Registry;
                using Checkups.ServiceDiscovery;
                using Checkups.Yarp;

                var options = new CheckupsOptions();
                var upstream = new UpstreamOptions();
                upstream.Servers.Add(new ServerOptions { Host = "127.0.0.1", Port = 8001 });
                options.Upstreams["api"] = upstream;
                using var registry = new UpstreamRegistry(options);
                using var handler = new CheckupsHttpHandler(registry, "api");
                var consul = new ConsulOptions { Upstream = "api" };
                consul.Validate();
                var check = new CheckupsHealthCheck(registry);
                var yarp = new CheckupsYarpOptions();
                yarp.Validate();
                var discovered = new ServiceDiscoveryUpstreamOptions { Query = "https+http://api" };
                discovered.Validate();
                Console.WriteLine($"picked {registry.SelectPeer("api").Port} via {handler.Upstream}, {consul.SourceName}, {check.GetType().Name}, {CheckupsYarpMetadata.PolicyName}, {CheckupsGrpc.AddressOf("api")}, {discovered.Query}");
                """);

            // Directory.Build.props and the central package versions of this repository must not reach the throwaway project.
            await File.WriteAllTextAsync(Path.Combine(work.FullName, "Directory.Build.props"), "<Project />");
            await File.WriteAllTextAsync(Path.Combine(work.FullName, "Directory.Packages.props"), "<Project />");
            string output = await Command.RunAsync(app, "dotnet", "run", "-c", "Release", "--nologo");

            Assert.Contains("picked 8001 via api, consul:api, CheckupsHealthCheck, Checkups, checkups://api/, https+http://api", output, StringComparison.Ordinal);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }
}
