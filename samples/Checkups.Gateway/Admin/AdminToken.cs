using System;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Checkups.Gateway.Admin;

/// <summary>The admin token the <see cref="AdminTokenHandler"/> accepts.</summary>
internal sealed class AdminTokenOptions : AuthenticationSchemeOptions
{
    /// <summary>Gets or sets the token; required.</summary>
    public string Token { get; set; } = string.Empty;
}

/// <summary>
/// Authenticates the operator of the admin port: <c>Authorization: Bearer &lt;token&gt;</c> (curl, scripts), or Basic
/// with the token as the password (any user name) so that a browser can open the status page, which reads its data with
/// the credentials the browser holds for the page. Anything else is no user; a wrong token is a failure (401).
/// </summary>
internal sealed class AdminTokenHandler(IOptionsMonitor<AdminTokenOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AdminTokenOptions>(options, logger, encoder)
{
    public const string SchemeName = "AdminToken";

    public const string PolicyName = "checkups-admin";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        string? presented = null;
        if (header is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            presented = header["Bearer ".Length..].Trim();
        }
        else if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            presented = BasicPassword(header["Basic ".Length..].Trim());
        }
        else
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (presented is null || !Matches(presented, Options.Token))
        {
            return Task.FromResult(AuthenticateResult.Fail("The admin token does not match."));
        }

        var identity = new ClaimsIdentity(new[] { new Claim(ClaimTypes.Name, "admin") }, Scheme.Name);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        // Bearer for programs; Basic makes a browser ask for the token (as the password) on the status page.
        Response.StatusCode = 401;
        Response.Headers.WWWAuthenticate = new StringValues(new[] { "Bearer", "Basic realm=\"Checkups gateway admin\", charset=\"UTF-8\"" });
        return Task.CompletedTask;
    }

    /// <summary>Compares digests in constant time, so neither the time taken nor an early exit tells how much of a guess matched, or its length.</summary>
    private static bool Matches(string presented, string token) =>
        token.Length > 0
        && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static string? BasicPassword(string encoded)
    {
        var bytes = new byte[(encoded.Length * 3 / 4) + 3];
        if (!Convert.TryFromBase64String(encoded, bytes, out int length))
        {
            return null;
        }

        string credentials = Encoding.UTF8.GetString(bytes, 0, length);
        int colon = credentials.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? null : credentials[(colon + 1)..];
    }
}
