using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Registry;
using Checkups.Sources;
using Microsoft.AspNetCore.Http;

namespace Checkups.AspNetCore;

/// <summary>The admin API's handlers: reads from the registry, writes through the API's own <see cref="UpstreamWriter"/>.</summary>
internal sealed class CheckupsAdminApi
{
    private static readonly Lazy<string> PageTemplate = new(() =>
    {
        using var stream = typeof(CheckupsAdminApi).Assembly.GetManifestResourceStream("Checkups.AspNetCore.StatusPage.html")
            ?? throw new InvalidOperationException("the status page is missing from the assembly");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    });

    private readonly UpstreamRegistry _registry;
    private readonly UpstreamWriter _writer;
    private readonly CheckupsAdminOptions _options;

    public CheckupsAdminApi(UpstreamRegistry registry, UpstreamWriter writer, CheckupsAdminOptions options)
    {
        _registry = registry;
        _writer = writer;
        _options = options;
    }

    /// <summary>The status page; its script reads the status JSON at the group's own address.</summary>
    public static IResult Page(HttpContext context, string prefix)
    {
        string statusUrl = JsonSerializer.Serialize(context.Request.PathBase.Add(new PathString(prefix + "/status")).ToString());
        string html = PageTemplate.Value.Replace("\"__STATUS_URL__\"", statusUrl, StringComparison.Ordinal);
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers["Content-Security-Policy"] = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'";
        return Results.Content(html, "text/html; charset=utf-8");
    }

    public IResult List()
    {
        var status = _registry.GetStatus();
        return Json(writer =>
        {
            writer.WriteStartObject();
            writer.WriteStartArray("upstreams");
            foreach (var upstream in status.Upstreams.Values)
            {
                writer.WriteStartObject();
                writer.WriteString("name", upstream.Name);
                writer.WriteString("owner", upstream.Owner);
                writer.WriteString("mode", upstream.Mode);
                writer.WriteNumber("version", upstream.Version);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        });
    }

    public IResult Get(string name) =>
        _registry.TryGet(name, out var upstream) ? Entry(upstream) : NotFound(name);

    public async Task<IResult> PutAsync(string name, HttpContext context, CancellationToken cancellationToken)
    {
        var body = await ReadBodyAsync(context.Request, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return Results.Problem(
                statusCode: StatusCodes.Status413PayloadTooLarge,
                title: "The body is too large",
                detail: $"The admin API accepts bodies of at most {_options.MaxBodyBytes} bytes.");
        }

        var read = UpstreamJson.Read(body);
        if (read.Upstream is null)
        {
            return Invalid(read.Errors.Select(e => (e.Field, e.Message)));
        }

        try
        {
            if (read.ServersOnly)
            {
                // Slardar's {"servers": [...]}: only the servers change; the upstream's other options stay (the defaults
                // for a new one). Read again over the current options, under the registry's write lock.
                _writer.Update(name, current => UpstreamJson.Read(body, current).Upstream!);
            }
            else
            {
                _writer.Update(name, read.Upstream);
            }
        }
        catch (UpstreamOwnershipException ex)
        {
            return Conflict(ex);
        }
        catch (CheckupsValidationException ex)
        {
            return Invalid(ex.Errors.Select(error => Field(name, error)));
        }

        return _registry.TryGet(name, out var applied) ? Entry(applied) : NotFound(name);
    }

    public IResult Delete(string name)
    {
        try
        {
            return _writer.Delete(name) ? Results.NoContent() : NotFound(name);
        }
        catch (UpstreamOwnershipException ex)
        {
            return Conflict(ex);
        }
    }

    /// <summary>The body, or <see langword="null"/> when it is larger than the cap (told by its length, or found reading).</summary>
    private async Task<byte[]?> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        long cap = _options.MaxBodyBytes;
        if (request.ContentLength > cap)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        while (true)
        {
            int read = await request.Body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return buffer.ToArray();
            }

            if (buffer.Length + read > cap)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }
    }

    private static IResult Entry(Checkups.Model.Upstream upstream)
    {
        string options = upstream.GetOptions().ToJson();
        return Json(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("name", upstream.Name);
            writer.WriteString("owner", upstream.Owner);
            writer.WriteString("mode", upstream.Mode);
            writer.WriteNumber("version", upstream.Version);
            writer.WritePropertyName("options");
            writer.WriteRawValue(options, skipInputValidation: true);
            writer.WriteEndObject();
        });
    }

    private static IResult NotFound(string name) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such upstream", detail: $"There is no upstream named '{name}'.");

    private static IResult Conflict(UpstreamOwnershipException ex) =>
        Results.Problem(
            statusCode: StatusCodes.Status409Conflict,
            title: "The upstream belongs to another source",
            detail: ex.Message,
            extensions: new Dictionary<string, object?> { ["upstream"] = ex.Upstream, ["owner"] = ex.Owner });

    private static IResult Invalid(IEnumerable<(string Field, string Message)> errors)
    {
        var byField = errors
            .GroupBy(e => e.Field.Length == 0 ? "$" : e.Field, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray(), StringComparer.Ordinal);
        return Results.ValidationProblem(byField, title: "The upstream is invalid; nothing was applied");
    }

    /// <summary>A registry error's field: its configuration path below the upstream (<c>Servers:0:Port</c>).</summary>
    private static (string Field, string Message) Field(string name, string error)
    {
        string prefix = $"{CheckupsOptions.SectionName}:Upstreams:{name}";
        if (!error.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            return (string.Empty, error);
        }

        string rest = error[prefix.Length..];
        if (!rest.StartsWith(':'))
        {
            return (string.Empty, error);
        }

        int space = rest.IndexOf(' ', StringComparison.Ordinal);
        return (space < 0 ? rest[1..] : rest[1..space], error);
    }

    private static IResult Json(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        return Results.Bytes(buffer.ToArray(), "application/json");
    }
}
