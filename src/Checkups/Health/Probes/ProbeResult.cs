using System;
using System.Collections.Frozen;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using Checkups.Status;

namespace Checkups.Health.Probes;

/// <summary>A probe's verdict on one server: a status, why, and fields worth reporting (versions, roles…).</summary>
public sealed class ProbeResult
{
    private static readonly IReadOnlyDictionary<string, string> NoFields = FrozenDictionary<string, string>.Empty;

    private ProbeResult(string status, string? message, IReadOnlyDictionary<string, string>? fields)
    {
        Status = status;
        Message = message;
        Fields = fields ?? NoFields;
    }

    /// <summary>Gets the status: <see cref="HealthStatus.Ok"/>, <see cref="HealthStatus.Unstable"/> or <see cref="HealthStatus.Err"/>.</summary>
    public string Status { get; }

    /// <summary>Gets why the server is not ok; <see langword="null"/> when it is.</summary>
    public string? Message { get; }

    /// <summary>Gets extra fields for the status report (for Redis: role, master_host, redis_version…).</summary>
    public IReadOnlyDictionary<string, string> Fields { get; }

    /// <summary>Gets whether the probe failed (counts towards sensibility).</summary>
    public bool Failed => Status == HealthStatus.Err;

    /// <summary>The server is healthy.</summary>
    /// <param name="fields">Fields for the status report.</param>
    /// <returns>The verdict.</returns>
    public static ProbeResult Ok(IReadOnlyDictionary<string, string>? fields = null) => new(HealthStatus.Ok, null, fields);

    /// <summary>The server answers but is degraded (for example a replica whose master link is down): it stays selectable.</summary>
    /// <param name="message">Why.</param>
    /// <param name="fields">Fields for the status report.</param>
    /// <returns>The verdict.</returns>
    public static ProbeResult Unstable(string message, IReadOnlyDictionary<string, string>? fields = null) =>
        new(HealthStatus.Unstable, message ?? throw new ArgumentNullException(nameof(message)), fields);

    /// <summary>The probe failed.</summary>
    /// <param name="message">Why (an error the server sent, a refused connection…).</param>
    /// <param name="fields">Fields for the status report.</param>
    /// <returns>The verdict.</returns>
    public static ProbeResult Failure(string message, IReadOnlyDictionary<string, string>? fields = null) =>
        new(HealthStatus.Err, message ?? throw new ArgumentNullException(nameof(message)), fields);

    /// <summary>The longest message or field value kept; longer ones are cut, with an ellipsis.</summary>
    internal const int MaxText = 256;

    /// <summary>
    /// This verdict with every message and field value printable (control characters escaped as <c>\uXXXX</c>) and at most
    /// <see cref="MaxText"/> characters, as bytes from a server may be neither; itself when nothing needs changing.
    /// </summary>
    internal ProbeResult Sanitized()
    {
        bool clean = IsClean(Message);
        foreach (var (key, value) in Fields)
        {
            clean &= IsClean(key) && IsClean(value);
        }

        if (clean)
        {
            return this;
        }

        Dictionary<string, string>? fields = null;
        if (Fields.Count > 0)
        {
            fields = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (key, value) in Fields)
            {
                fields[Clean(key)] = Clean(value);
            }
        }

        return new ProbeResult(Status, Message is null ? null : Clean(Message), fields);
    }

    private static bool IsClean(string? text)
    {
        if (text is null)
        {
            return true;
        }

        if (text.Length > MaxText)
        {
            return false;
        }

        for (int i = 0; i < text.Length; i++)
        {
            if (MustEscape(text, i))
            {
                return false;
            }
        }

        return true;
    }

    private static string Clean(string text)
    {
        var builder = new StringBuilder(Math.Min(text.Length, MaxText) + 8);
        for (int i = 0; i < text.Length; i++)
        {
            if (builder.Length >= MaxText)
            {
                // Never end on half a surrogate pair.
                if (char.IsHighSurrogate(builder[^1]))
                {
                    builder.Length--;
                }

                builder.Append('…');
                break;
            }

            char c = text[i];
            if (MustEscape(text, i))
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    /// <summary>Control and format characters (CR, LF, ESC, right-to-left overrides…), line and paragraph separators, lone surrogates.</summary>
    private static bool MustEscape(string text, int i)
    {
        char c = text[i];
        if (char.IsHighSurrogate(c))
        {
            return i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1]);
        }

        if (char.IsLowSurrogate(c))
        {
            return i == 0 || !char.IsHighSurrogate(text[i - 1]);
        }

        return char.GetUnicodeCategory(c) is UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;
    }
}
