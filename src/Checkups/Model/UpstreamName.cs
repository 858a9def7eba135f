using System;
using System.Globalization;
using System.Text;

namespace Checkups.Model;

/// <summary>
/// The rule every upstream name follows, wherever it comes from (configuration, the run-time API, the admin API, Consul):
/// no control or invisible characters, no white space but a plain inner space, and one spelling per name: names are
/// kept in Unicode normalization form C, so <c>café</c> typed precomposed or decomposed is one upstream, and
/// <c>a&#x200B;pi</c> (with a zero-width space) is refused rather than shown as <c>api</c>.
/// </summary>
public static class UpstreamName
{
    /// <summary>Gets the longest name accepted, in UTF-16 code units.</summary>
    public const int MaxLength = 256;

    /// <summary>Says why <paramref name="name"/> is not a usable upstream name, or returns <see langword="null"/> when it is.</summary>
    /// <param name="name">The name as given.</param>
    /// <returns>The reason, naming the offending character and its position; <see langword="null"/> for a usable name.</returns>
    public static string? Problem(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return "must not be empty or white space";
        }

        if (name.Length > MaxLength)
        {
            return string.Create(CultureInfo.InvariantCulture, $"must be at most {MaxLength} characters long (was {name.Length})");
        }

        if (char.IsWhiteSpace(name[0]) || char.IsWhiteSpace(name[^1]))
        {
            return "must not begin or end with white space";
        }

        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (c < 0x7F && c >= 0x20)
            {
                continue;
            }

            if (char.IsSurrogate(c))
            {
                if (char.IsHighSurrogate(c) && i + 1 < name.Length && char.IsLowSurrogate(name[i + 1]))
                {
                    var pair = char.GetUnicodeCategory(name, i);
                    if (pair is UnicodeCategory.Format or UnicodeCategory.OtherNotAssigned or UnicodeCategory.PrivateUse)
                    {
                        return Refused(name, i, char.ConvertToUtf32(c, name[i + 1]), pair);
                    }

                    i++;
                    continue;
                }

                return string.Create(CultureInfo.InvariantCulture, $"must be well-formed text (a lone surrogate U+{(int)c:X4} at position {i})");
            }

            var category = char.GetUnicodeCategory(c);
            if (category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator
                or UnicodeCategory.ParagraphSeparator or UnicodeCategory.OtherNotAssigned or UnicodeCategory.PrivateUse
                || (category == UnicodeCategory.SpaceSeparator && c != ' '))
            {
                return Refused(name, i, c, category);
            }
        }

        return null;
    }

    /// <summary>The name as the registry keeps it: in Unicode normalization form C (a name of ASCII only is returned as it is).</summary>
    /// <param name="name">A name <see cref="Problem"/> accepts.</param>
    /// <returns>The name in normalization form C.</returns>
    public static string Normalize(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Ascii.IsValid(name) || name.IsNormalized(NormalizationForm.FormC) ? name : name.Normalize(NormalizationForm.FormC);
    }

    /// <summary>Whether <paramref name="name"/> may have another spelling in the registry: it is not ASCII and not in form C.</summary>
    internal static bool MayBeSpelledOtherwise(string name) => !Ascii.IsValid(name) && Problem(name) is null && !name.IsNormalized(NormalizationForm.FormC);

    private static string Refused(string name, int position, int codePoint, UnicodeCategory category) =>
        string.Create(CultureInfo.InvariantCulture, $"must not contain control or invisible characters (U+{codePoint:X4}, {Describe(category)}, at position {position} of {name.Length})");

    private static string Describe(UnicodeCategory category) => category switch
    {
        UnicodeCategory.Control => "a control character",
        UnicodeCategory.Format => "an invisible format character",
        UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator => "a line break",
        UnicodeCategory.SpaceSeparator => "a space other than U+0020",
        UnicodeCategory.PrivateUse => "a private-use character",
        _ => "an unassigned character",
    };
}
