using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Checkups.Configuration;

namespace Checkups.Benchmarks;

/// <summary>
/// <c>report --svg DIR</c>: the charts of docs/algorithms.md, drawn from the same deterministic runs as the report
/// (plain SVG, no script, no external font or style).
/// </summary>
internal static class SvgCharts
{
    private const int Keys = 200_000;
    private static readonly string[] Palette = { "#3267b0", "#e07b24", "#4c9a4a", "#b8403b" };

    public static void Write(string directory)
    {
        Directory.CreateDirectory(directory);
        string share = Path.Combine(directory, "hash-load-share.svg");
        File.WriteAllText(share, LoadShare());
        string p99 = Path.Combine(directory, "slow-server-p99.svg");
        File.WriteAllText(p99, P99OverTime());
        Console.WriteLine($"wrote {share} and {p99}");
    }

    /// <summary>Share of 200,000 keys per server (10 servers, equal weights) for each placement: ideal is 10 % each.</summary>
    private static string LoadShare()
    {
        var servers = Placement.Servers(10);
        var series = new List<(string Name, double[] Shares)>();
        foreach (string algorithm in new[] { HashAlgorithms.Maglev, HashAlgorithms.Ketama })
        {
            using var registry = Placement.Registry(servers, algorithm);
            series.Add((algorithm == HashAlgorithms.Maglev ? "weighted Maglev (default)" : "ketama (nginx-compatible)", Shares(Placement.Map(registry, Keys), servers)));
        }

        series.Add(("lua-resty-checkups' ring (the seed)", Shares(Placement.Map(new SeedRing(servers), servers, Keys), servers)));

        const int Width = 760, Height = 360, Left = 60, Right = 20, Top = 50, Bottom = 60;
        // The axis stops at 20 %: a bar beyond it (the seed's ring puts most keys on one server) is cut and labelled.
        const double max = 20;
        double plotWidth = Width - Left - Right, plotHeight = Height - Top - Bottom;
        double group = plotWidth / servers.Count;
        double bar = (group - 8) / series.Count;
        double Y(double value) => Top + plotHeight - (value / max * plotHeight);

        var svg = Begin(Width, Height, $"Share of {Keys:N0} keys per server, 10 servers of equal weight (ideal 10 %)");
        Axis(svg, Left, Top, plotWidth, plotHeight, max, 2, "%");
        for (int s = 0; s < series.Count; s++)
        {
            for (int i = 0; i < servers.Count; i++)
            {
                double x = Left + (i * group) + 4 + (s * bar);
                double share = series[s].Shares[i];
                double y = Y(Math.Min(share, max));
                svg.Append(Invariant($"<rect x=\"{x:0.0}\" y=\"{y:0.0}\" width=\"{bar - 1:0.0}\" height=\"{Top + plotHeight - y:0.0}\" fill=\"{Palette[s]}\"><title>{Escape(series[s].Name)}, server {i + 1}: {share:0.00} %</title></rect>"));
                if (share > max)
                {
                    svg.Append(Invariant($"<text x=\"{x + bar:0.0}\" y=\"{Top + 12}\" font-weight=\"bold\">{share:0.#} %</text>"));
                }
            }
        }

        double ideal = Y(10);
        svg.Append(Invariant($"<line x1=\"{Left}\" y1=\"{ideal:0.0}\" x2=\"{Left + plotWidth}\" y2=\"{ideal:0.0}\" stroke=\"#222\" stroke-dasharray=\"4 3\"/>"));
        for (int i = 0; i < servers.Count; i++)
        {
            svg.Append(Invariant($"<text x=\"{Left + (i * group) + (group / 2):0.0}\" y=\"{Top + plotHeight + 16}\" text-anchor=\"middle\">{i + 1}</text>"));
        }

        svg.Append(Invariant($"<text x=\"{Left + (plotWidth / 2):0.0}\" y=\"{Top + plotHeight + 34}\" text-anchor=\"middle\">server</text>"));
        Legend(svg, series.Select(s => s.Name).ToList(), Left, Height - 12);
        return End(svg);
    }

    /// <summary>p99 latency per second, one server at 2 s from second 15 to 45 (Linkerd's setup), WRR against fastest response.</summary>
    private static string P99OverTime()
    {
        var series = new List<(string Name, double[] Values)>
        {
            ("wrr", Simulations.P99PerSecond(BalancingModes.WeightedRoundRobin)),
            ("fastest (peak EWMA)", Simulations.P99PerSecond(BalancingModes.Fastest)),
        };

        const int Width = 760, Height = 360, Left = 60, Right = 20, Top = 50, Bottom = 60;
        double plotWidth = Width - Left - Right, plotHeight = Height - Top - Bottom;
        double max = Math.Ceiling(series.Max(s => s.Values.Max()) / 500.0) * 500.0;
        int points = series.Max(s => s.Values.Length);
        double X(int second) => Left + (second * plotWidth / Math.Max(1, points - 1));
        double Y(double value) => Top + plotHeight - (value / max * plotHeight);

        var svg = Begin(Width, Height, "p99 latency per second: 11 servers, one slowed to 2 s from second 15 to 45, 1,000 requests/s");
        Axis(svg, Left, Top, plotWidth, plotHeight, max, 500, " ms");
        svg.Append(Invariant($"<rect x=\"{X(15):0.0}\" y=\"{Top}\" width=\"{X(45) - X(15):0.0}\" height=\"{plotHeight:0.0}\" fill=\"#f3d9d6\" opacity=\"0.5\"><title>the slow period</title></rect>"));
        for (int s = 0; s < series.Count; s++)
        {
            var path = string.Join(" ", series[s].Values.Select((v, i) => Invariant($"{(i == 0 ? 'M' : 'L')}{X(i):0.0},{Y(v):0.0}")));
            svg.Append(Invariant($"<path d=\"{path}\" fill=\"none\" stroke=\"{Palette[s]}\" stroke-width=\"2\"><title>{Escape(series[s].Name)}</title></path>"));
        }

        for (int second = 0; second < points; second += 10)
        {
            svg.Append(Invariant($"<text x=\"{X(second):0.0}\" y=\"{Top + plotHeight + 16}\" text-anchor=\"middle\">{second}</text>"));
        }

        svg.Append(Invariant($"<text x=\"{Left + (plotWidth / 2):0.0}\" y=\"{Top + plotHeight + 34}\" text-anchor=\"middle\">second of the run</text>"));
        Legend(svg, series.Select(s => s.Name).ToList(), Left, Height - 12);
        return End(svg);
    }

    private static double[] Shares(int[] mapping, IReadOnlyList<(string Key, int Weight)> servers)
    {
        var counts = mapping.GroupBy(port => port).ToDictionary(g => g.Key, g => g.Count());
        return servers.Select(s => 100.0 * counts.GetValueOrDefault(int.Parse(s.Key.AsSpan(10), CultureInfo.InvariantCulture)) / mapping.Length).ToArray();
    }

    private static StringBuilder Begin(int width, int height, string title)
    {
        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">"));
        svg.Append(Invariant($"<rect width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>"));
        svg.Append(Invariant($"<text x=\"{width / 2}\" y=\"24\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">{Escape(title)}</text>"));
        return svg;
    }

    private static void Axis(StringBuilder svg, double left, double top, double width, double height, double max, double step, string unit)
    {
        for (double value = 0; value <= max + 1e-9; value += step)
        {
            double y = top + height - (value / max * height);
            svg.Append(Invariant($"<line x1=\"{left}\" y1=\"{y:0.0}\" x2=\"{left + width:0.0}\" y2=\"{y:0.0}\" stroke=\"#e2e2e2\"/>"));
            svg.Append(Invariant($"<text x=\"{left - 6}\" y=\"{y + 4:0.0}\" text-anchor=\"end\">{value:0.#}{unit}</text>"));
        }

        svg.Append(Invariant($"<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{top + height:0.0}\" stroke=\"#444\"/>"));
        svg.Append(Invariant($"<line x1=\"{left}\" y1=\"{top + height:0.0}\" x2=\"{left + width:0.0}\" y2=\"{top + height:0.0}\" stroke=\"#444\"/>"));
    }

    private static void Legend(StringBuilder svg, IReadOnlyList<string> names, double left, double y)
    {
        double x = left;
        for (int i = 0; i < names.Count; i++)
        {
            svg.Append(Invariant($"<rect x=\"{x:0.0}\" y=\"{y - 10:0.0}\" width=\"12\" height=\"12\" fill=\"{Palette[i]}\"/>"));
            svg.Append(Invariant($"<text x=\"{x + 16:0.0}\" y=\"{y:0.0}\">{Escape(names[i])}</text>"));
            x += 24 + (names[i].Length * 6.5);
        }
    }

    private static string End(StringBuilder svg) => svg.Append("</svg>\n").ToString();

    private static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
