using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Text;
using System.Threading.Tasks;
using Checkups.Http;
using Checkups.TestUtils;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace Checkups.AspNetCore.Tests;

/// <summary>
/// The status page in a real browser: Debian's Chromium, headless, driven by Debian's chromedriver through Selenium
/// (both installed by <c>./test.sh</c>). A backend stopped during the test turns <c>err</c> on the page.
/// </summary>
public sealed class StatusPageBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";
    private const string ChromeDriver = "/usr/bin/chromedriver";

    [Fact]
    public async Task StoppedServer_TurnsErrOnThePage()
    {
        Assert.True(File.Exists(Chromium) && File.Exists(ChromeDriver), $"{Chromium} and {ChromeDriver} are needed: ./test.sh installs Debian's chromium and chromium-driver");
        var backends = new List<Backend>();
        await Backend.StartAllAsync(backends, "one", "two");
        await using var host = await AdminHost.StartAsync(options => options.AllowAnonymous = true);
        try
        {
            string body = """{"try": 2, "servers": [""" + string.Join(",", backends.Select(b => $$"""{"host": "127.0.0.1", "port": {{b.Port}}, "max_fails": 1}""")) + "]}";
            using (var created = await host.Client.PutAsync("/checkups/upstreams/page", new StringContent(body, Encoding.UTF8, "application/json")))
            {
                created.EnsureSuccessStatusCode();
            }

            using var client = new HttpClient(new CheckupsHttpHandler(host.Registry, "page", time: host.Clock) { InnerHandler = new SocketsHttpHandler() }) { BaseAddress = new Uri("http://page/") };

            // Read in one script run: the page re-renders its tables every second, so an element found a moment ago may be gone.
            string? Cell(IWebDriver driver, Backend backend, int column) => (string?)((IJavaScriptExecutor)driver).ExecuteScript(
                "var row = document.querySelector(\"tr[data-server='\" + arguments[0] + \"']\"); return row ? row.cells[arguments[1]].textContent : null;",
                $"page:127.0.0.1:{backend.Port}",
                column);
            string? Status(IWebDriver driver, Backend backend) => Cell(driver, backend, 2);

            using var browser = Browser.Start();
            browser.Driver.Navigate().GoToUrl(new Uri(host.Address, "/checkups/"));
            var wait = new WebDriverWait(browser.Driver, TimeSpan.FromSeconds(30));
            wait.Until(d => backends.All(b => Status(d, b) is "ok" or "unchecked"));

            await backends[1].StopAsync();
            for (int i = 0; i < 4; i++)
            {
                // Try 2: the attempt that meets the stopped backend is retried on the other, and marks it err.
                using var response = await client.GetAsync("/");
                response.EnsureSuccessStatusCode();
            }

            wait.Until(d => Status(d, backends[1]) == "err");
            Assert.NotEqual("err", Status(browser.Driver, backends[0]));
            Assert.False(string.IsNullOrWhiteSpace(Cell(browser.Driver, backends[1], 3)));
        }
        finally
        {
            await Backend.DisposeAllAsync(backends);
        }
    }

    /// <summary>A headless Chromium session; its driver process (and so the browser) is stopped by PID when disposed.</summary>
    private sealed class Browser : IDisposable
    {
        private readonly ChromeDriverService _service;
        private readonly string _profile;

        private Browser(ChromeDriverService service, ChromeDriver driver, string profile)
        {
            _service = service;
            Driver = driver;
            _profile = profile;
        }

        public ChromeDriver Driver { get; }

        public static Browser Start()
        {
            string profile = Directory.CreateTempSubdirectory("checkups-chromium-").FullName;
            var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(ChromeDriver)!, Path.GetFileName(ChromeDriver));
            service.HideCommandPromptWindow = true;
            service.SuppressInitialDiagnosticInformation = true;
            var options = new ChromeOptions { BinaryLocation = Chromium };
            options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run", "--disable-crash-reporter", "--disable-breakpad", "--user-data-dir=" + profile);
            try
            {
                return new Browser(service, new ChromeDriver(service, options, TimeSpan.FromSeconds(60)), profile);
            }
            catch
            {
                service.Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            int pid = _service.ProcessId;
            try
            {
                Driver.Quit();
            }
            finally
            {
                Driver.Dispose();
                _service.Dispose();
                try
                {
                    using var process = Process.GetProcessById(pid);
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(10_000);
                }
                catch (ArgumentException)
                {
                    // Already gone.
                }
                catch (InvalidOperationException)
                {
                    // Already gone.
                }

                Directory.Delete(_profile, recursive: true);
            }
        }
    }
}
