using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Configuration;
using Checkups.Model;
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

    /// <summary>What secrets read as in every answer; sent back in a write, it keeps the secret the upstream has.</summary>
    internal const string Redacted = "(redacted)";

    public IResult Get(string name) =>
        _registry.TryGet(name, out var upstream) ? Entry(upstream) : NotFound(name);

    /// <summary>
    /// Refuses what a browser on another site could send (a form or a no-cors <c>text/plain</c> POST needs no preflight):
    /// a body that is not <c>application/json</c> (415), and a request its browser marks cross-site (403).
    /// </summary>
    public static IResult? RefuseUnsafeWrite(HttpContext context, bool hasBody)
    {
        var request = context.Request;
        string? site = request.Headers["Sec-Fetch-Site"];
        string? origin = request.Headers.Origin;
        bool crossSite = site is not null && site is not ("same-origin" or "none");
        if (!crossSite && !string.IsNullOrEmpty(origin))
        {
            crossSite = !string.Equals(origin, string.Concat(request.Scheme, "://", request.Host.Value), StringComparison.OrdinalIgnoreCase);
        }

        if (crossSite)
        {
            return Results.Problem(
                statusCode: StatusCodes.Status403Forbidden,
                title: "Cross-site writes are refused",
                detail: "The admin API does not accept changes sent by a page of another origin.");
        }

        if (hasBody && !IsJson(request.ContentType))
        {
            return Results.Problem(
                statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "The body must be JSON",
                detail: $"Send the upstream with Content-Type: application/json (was '{request.ContentType ?? "none"}').");
        }

        return null;
    }

    private static bool IsJson(string? contentType)
    {
        if (contentType is null)
        {
            return false;
        }

        int semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        var media = (semicolon < 0 ? contentType : contentType[..semicolon]).AsSpan().Trim();
        return media.Equals("application/json", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// The version an <c>If-Match</c> names: <see langword="null"/> when there is none; <c>*</c> is any existing version.
    /// A header that names no version of ours (a list, a weak tag, garbage) can match nothing.
    /// </summary>
    private static bool TryIfMatch(HttpRequest request, out long? version, out bool any)
    {
        version = null;
        any = false;
        string? header = request.Headers.IfMatch;
        if (string.IsNullOrWhiteSpace(header))
        {
            return true;
        }

        string tag = header.Trim();
        if (tag == "*")
        {
            any = true;
            return true;
        }

        if (tag.Length > 2 && tag[0] == '"' && tag[^1] == '"'
            && long.TryParse(tag.AsSpan(1, tag.Length - 2), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long parsed))
        {
            version = parsed;
            return true;
        }

        return false;
    }

    /// <summary>
    /// A 400 for a name the registry's rule refuses (empty, control or invisible characters such as a zero-width space
    /// that would show as another upstream's name), before the body is read; <see langword="null"/> for a usable name.
    /// </summary>
    private static IResult? UnusableName(string name) =>
        UpstreamName.Problem(name) is { } problem
            ? Invalid(new[] { ("name", $"the upstream's name {problem}") })
            : null;

    private static IResult PreconditionFailed(string detail) =>
        Results.Problem(statusCode: StatusCodes.Status412PreconditionFailed, title: "The upstream changed since it was read", detail: detail);

    public async Task<IResult> PutAsync(string name, HttpContext context, CancellationToken cancellationToken)
    {
        if (RefuseUnsafeWrite(context, hasBody: true) is { } refused)
        {
            return refused;
        }

        if (!TryIfMatch(context.Request, out long? ifVersion, out bool ifAny))
        {
            return PreconditionFailed("If-Match must be * or an ETag this API gave (\"<version>\").");
        }

        if (UnusableName(name) is { } badName)
        {
            return badName;
        }

        var body = await ReadBodyAsync(context.Request, cancellationToken).ConfigureAwait(false);
        if (body.Array is null)
        {
            return Results.Problem(
                statusCode: StatusCodes.Status413PayloadTooLarge,
                title: "The body is too large",
                detail: $"The admin API accepts bodies of at most {_options.MaxBodyBytes} bytes.");
        }

        UpstreamJsonResult read;
        try
        {
            read = UpstreamJson.Read(body.AsSpan());
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body.Array, clearArray: true);
        }

        if (read.Upstream is null)
        {
            return Invalid(read.Errors.Select(e => (e.Field, e.Message)));
        }

        var given = read.Upstream;
        bool serversOnly = read.ServersOnly;
        Checkups.Model.Upstream applied;
        try
        {
            // The body was read once, before; the build runs on the upstream's current options (again, should another change
            // land meanwhile). Slardar's {"servers": [...]} changes only the servers (the other options stay; the defaults for
            // a new upstream); a whole upstream replaces it. A secret sent back as it was shown (redacted) keeps the upstream's own.
            applied = _writer.Update(
                name,
                current =>
                {
                    if (ifAny && current is null)
                    {
                        throw new UpstreamVersionMismatchException(name, 0, null);
                    }

                    var next = serversOnly && current is not null ? WithServersOf(current, given) : given;
                    KeepSecrets(next, current);
                    return next;
                },
                ifVersion);
        }
        catch (UpstreamOwnershipException ex)
        {
            return Conflict(ex);
        }
        catch (UpstreamVersionMismatchException ex)
        {
            return PreconditionFailed(ex.Message);
        }
        catch (CheckupsValidationException ex)
        {
            return Invalid(ex.Errors.Select(error => Field(name, error)));
        }
        catch (ArgumentException ex)
        {
            return Invalid(new[] { ("name", "the upstream's name is not usable: " + ex.Message) });
        }

        // What this write made, not what a later writer made of it.
        return Entry(applied);
    }

    public IResult Delete(string name, HttpContext context)
    {
        if (RefuseUnsafeWrite(context, hasBody: false) is { } refused)
        {
            return refused;
        }

        if (!TryIfMatch(context.Request, out long? ifVersion, out _))
        {
            return PreconditionFailed("If-Match must be * or an ETag this API gave (\"<version>\").");
        }

        try
        {
            return _writer.Delete(name, ifVersion) ? Results.NoContent() : NotFound(name);
        }
        catch (UpstreamOwnershipException ex)
        {
            return Conflict(ex);
        }
        catch (UpstreamVersionMismatchException ex)
        {
            return PreconditionFailed(ex.Message);
        }
    }

    private static UpstreamOptions WithServersOf(UpstreamOptions current, UpstreamOptions given)
    {
        current.Servers.Clear();
        current.Clusters.Clear();
        current.NamedClusters.Clear();
        foreach (var server in given.Servers)
        {
            current.Servers.Add(server);
        }

        foreach (var cluster in given.Clusters)
        {
            current.Clusters.Add(cluster);
        }

        foreach (var (clusterName, cluster) in given.NamedClusters)
        {
            current.NamedClusters[clusterName] = cluster;
        }

        return current;
    }

    private static void KeepSecrets(UpstreamOptions next, UpstreamOptions? current)
    {
        if (next.Heartbeat.Redis.Password == Redacted)
        {
            next.Heartbeat.Redis.Password = current?.Heartbeat.Redis.Password;
        }

        if (next.Heartbeat.MySql.Password == Redacted)
        {
            next.Heartbeat.MySql.Password = current?.Heartbeat.MySql.Password;
        }
    }

    /// <summary>
    /// The body in an array rented from the shared pool (the caller returns it), or no array when it is larger than the
    /// cap (told by its length, or found reading). A large body (10,000 servers is a megabyte) costs no array of its own.
    /// </summary>
    private async Task<ArraySegment<byte>> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        long cap = _options.MaxBodyBytes;
        if (request.ContentLength > cap)
        {
            return default;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(request.ContentLength is { } length ? (int)length + 1 : 16 * 1024);
        int filled = 0;
        try
        {
            while (true)
            {
                if (filled == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, filled).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
                    buffer = larger;
                }

                int read = await request.Body.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    var body = new ArraySegment<byte>(buffer, 0, filled);
                    buffer = null;
                    return body;
                }

                if (filled + read > cap)
                {
                    return default;
                }

                filled += read;
            }
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
            }
        }
    }

    private static Tagged Entry(Checkups.Model.Upstream upstream)
    {
        // Secrets never leave the process: a probe's password reads as redacted.
        var shown = upstream.GetOptions();
        if (shown.Heartbeat.Redis.Password is not null)
        {
            shown.Heartbeat.Redis.Password = Redacted;
        }

        if (shown.Heartbeat.MySql.Password is not null)
        {
            shown.Heartbeat.MySql.Password = Redacted;
        }

        string etag = string.Concat("\"", upstream.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), "\"");
        return new Tagged(etag, Json(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("name", upstream.Name);
            writer.WriteString("owner", upstream.Owner);
            writer.WriteString("mode", upstream.Mode);
            writer.WriteNumber("version", upstream.Version);
            writer.WritePropertyName("options");
            shown.WriteJson(writer);
            writer.WriteEndObject();
        }));
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

    /// <summary>A JSON answer written straight to the response: a large upstream is not held as a string and an array first.</summary>
    private static JsonAnswer Json(Action<Utf8JsonWriter> write) => new(write);

    private sealed class JsonAnswer(Action<Utf8JsonWriter> write) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.ContentType = "application/json";
            var writer = new Utf8JsonWriter(httpContext.Response.BodyWriter);
            await using (writer.ConfigureAwait(false))
            {
                write(writer);
                await writer.FlushAsync(httpContext.RequestAborted).ConfigureAwait(false);
            }
        }
    }

    /// <summary>An answer with the upstream's version as its ETag, for <c>If-Match</c>.</summary>
    private sealed class Tagged(string etag, IResult inner) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.ETag = etag;
            return inner.ExecuteAsync(httpContext);
        }
    }
}
