using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Checkups.Status;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Checkups.Demo;

/// <summary>What the demo shows each second: the phase, then per server its status, requests, share and latency.</summary>
internal sealed class Dashboard
{
    private readonly IReadOnlyList<Backend> _backends;
    private readonly Traffic _traffic;
    private readonly string _upstream;

    public Dashboard(IReadOnlyList<Backend> backends, Traffic traffic, string upstream)
    {
        _backends = backends;
        _traffic = traffic;
        _upstream = upstream;
    }

    private sealed record Row(string Name, int Port, string Status, string? Message, int Weight, int InFlight, double? LatencyMs, int Requests, double Share);

    private List<Row> Rows(CheckupsStatus status)
    {
        var servers = status.Upstreams.TryGetValue(_upstream, out var upstream)
            ? upstream.Clusters.SelectMany(c => c.Servers).ToList()
            : new List<ServerStatus>();
        var counts = _traffic.Phase;
        int total = Math.Max(1, counts.Values.Sum());
        return _backends.Select(backend =>
        {
            var server = servers.FirstOrDefault(s => s.Server.EndsWith(":" + backend.Port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));
            int requests = counts.GetValueOrDefault(backend.Name);
            return new Row(backend.Name, backend.Port, server?.Status ?? "-", server?.Message, server?.Weight ?? 0, server?.InFlight ?? 0, server?.LatencyMs, requests, 100.0 * requests / total);
        }).ToList();
    }

    /// <summary>The live table (Spectre.Console).</summary>
    public IRenderable Render(CheckupsStatus status, string phase)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("server").AddColumn("status").AddColumn(new TableColumn("weight").RightAligned())
            .AddColumn(new TableColumn("requests").RightAligned()).AddColumn(new TableColumn("share").RightAligned())
            .AddColumn(new TableColumn("latency").RightAligned()).AddColumn(new TableColumn("in flight").RightAligned()).AddColumn("message");
        foreach (var row in Rows(status))
        {
            string color = row.Status switch { "ok" or "unchecked" => "green", "unstable" => "yellow", "err" => "red", _ => "grey" };
            table.AddRow(
                Markup.Escape($"{row.Name} 127.0.0.1:{row.Port}"),
                $"[{color}]{Markup.Escape(row.Status)}[/]",
                row.Weight.ToString(CultureInfo.InvariantCulture),
                row.Requests.ToString(CultureInfo.InvariantCulture),
                row.Share.ToString("0.0", CultureInfo.InvariantCulture) + " %",
                row.LatencyMs is { } ms ? ms.ToString("0.0", CultureInfo.InvariantCulture) + " ms" : "-",
                row.InFlight.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(row.Message ?? string.Empty));
        }

        var summary = new Markup(Markup.Escape($"{_traffic.Total} requests, {_traffic.Failed} failed") + (_traffic.Failed == 0 ? " [green](none lost)[/]" : " [red]![/]"));
        return new Rows(new Markup("[bold]" + Markup.Escape(phase) + "[/]"), table, summary);
    }

    /// <summary>One plain line, for output that is not a terminal.</summary>
    public string Line(CheckupsStatus status, string phase) =>
        string.Create(CultureInfo.InvariantCulture, $"[{phase}] ") + string.Join(" | ", Rows(status).Select(row =>
            string.Create(CultureInfo.InvariantCulture, $"{row.Name} {row.Status} w{row.Weight} {row.Requests} req {row.Share:0}% {(row.LatencyMs is { } ms ? ms.ToString("0.0", CultureInfo.InvariantCulture) + " ms" : "-")}")))
        + string.Create(CultureInfo.InvariantCulture, $" | failed {_traffic.Failed}");
}
