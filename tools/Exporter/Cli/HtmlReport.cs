using System.Globalization;
using System.Net;
using System.Text;
using EdgeAgent.Compression.Evaluation;

namespace EdgeAgent.Exporter.Cli;

/// <summary>A self-contained HTML page (inline CSS and SVG, no scripts, nothing fetched) for a model report.</summary>
internal static class HtmlReport
{
    public static string Render(ModelReport r)
    {
        var s = new StringBuilder();
        s.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>exporter report: ")
         .Append(E(Path.GetFileName(r.ModelPath))).Append("</title><style>")
         .Append("body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}td,th{padding:.25em .8em;border-bottom:1px solid #ddd;text-align:right}")
         .Append("td:first-child,th:first-child{text-align:left}h2{margin-top:1.6em}.note{color:#a60}")
         .Append("</style></head><body>");
        s.Append("<h1>").Append(E(Path.GetFileName(r.ModelPath))).Append("</h1><table>");
        Row(s, "file size", $"{r.ModelBytes:N0} bytes" + (r.ReferenceBytes is { } rb ? $" ({r.ModelBytes / (double)rb:0.000}× of {rb:N0})" : ""));
        Row(s, "parameters", r.Parameters.ToString("N0", CultureInfo.InvariantCulture));
        Row(s, "MACs per sample", r.Macs.ToString("N0", CultureInfo.InvariantCulture));
        if (r.Samples > 0)
        {
            Row(s, "samples", $"{r.Samples} (engine {r.Engine})");
            Row(s, "accuracy", Pct(r.Accuracy) + (r.ReferenceAccuracy is { } ra ? $" (reference {Pct(ra)})" : ""));
            Row(s, "top-1 agreement with reference", Pct(r.Top1Agreement));
            Row(s, "output SQNR", Db(r.OutputSqnrDb));
            Row(s, "ours vs ONNX Runtime", r.EngineTop1Agreement is null ? "—" : $"{Pct(r.EngineTop1Agreement)} top-1, max {r.EngineMaxDifferenceSteps:0.000} output steps");
        }
        s.Append("</table>");
        if (r.EngineNote is not null) s.Append("<p class=\"note\">").Append(E(r.EngineNote)).Append("</p>");

        var sqnr = r.Layers.Where(l => l.SqnrDb is not null).ToList();
        if (sqnr.Count > 0)
        {
            s.Append("<h2>Per-layer SQNR (dB)</h2>");
            Bars(s, sqnr.Select(l => (l.Node, Math.Min(l.SqnrDb!.Value, 99.0))).ToList(), "dB", 30);
        }
        if (r.ReferenceBytes is { } refBytes)
        {
            s.Append("<h2>Size before and after (bytes)</h2>");
            Bars(s, [("reference", refBytes), ("this model", r.ModelBytes)], "B", null);
        }
        if (r.LatencyMs is { } lat && r.ReferenceLatencyMs is { } refLat)
        {
            s.Append("<h2>Latency before and after (ms per sample)</h2>");
            Bars(s, [($"reference ({r.ReferenceEngine})", refLat), ($"this model ({r.Engine})", lat)], "ms", null);
        }
        s.Append("<h2>Layers</h2><table><tr><th>layer</th><th>op</th><th>params</th><th>MACs</th><th>SQNR dB</th></tr>");
        foreach (var l in r.Layers)
            s.Append("<tr><td>").Append(E(l.Node)).Append("</td><td>").Append(E(l.OpType)).Append("</td><td>").Append(l.Parameters.ToString("N0", CultureInfo.InvariantCulture))
             .Append("</td><td>").Append(l.Macs.ToString("N0", CultureInfo.InvariantCulture)).Append("</td><td>").Append(Db(l.SqnrDb)).Append("</td></tr>");
        s.Append("</table></body></html>\n");
        return s.ToString();
    }

    // Horizontal bars; a dashed line marks the target when there is one.
    private static void Bars(StringBuilder s, IReadOnlyList<(string Label, double Value)> bars, string unit, double? target)
    {
        const int labelWidth = 200, barWidth = 420, rowHeight = 24;
        double max = Math.Max(bars.Max(b => b.Value), target ?? 0);
        if (max <= 0) max = 1;
        int height = bars.Count * rowHeight + 10;
        s.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{labelWidth + barWidth + 120}\" height=\"{height}\" role=\"img\">");
        for (int i = 0; i < bars.Count; i++)
        {
            double w = bars[i].Value / max * barWidth;
            int y = i * rowHeight + 4;
            s.Append(CultureInfo.InvariantCulture, $"<text x=\"{labelWidth - 6}\" y=\"{y + 15}\" text-anchor=\"end\" font-size=\"12\">{E(bars[i].Label)}</text>");
            s.Append(CultureInfo.InvariantCulture, $"<rect x=\"{labelWidth}\" y=\"{y}\" width=\"{w:0.0}\" height=\"18\" fill=\"#4a7fb5\"/>");
            s.Append(CultureInfo.InvariantCulture, $"<text x=\"{labelWidth + w + 6:0.0}\" y=\"{y + 15}\" font-size=\"12\">{bars[i].Value:G4} {unit}</text>");
        }
        if (target is { } t)
        {
            double x = labelWidth + t / max * barWidth;
            s.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x:0.0}\" y1=\"0\" x2=\"{x:0.0}\" y2=\"{height}\" stroke=\"#c33\" stroke-dasharray=\"4 3\"/>");
        }
        s.Append("</svg>");
    }

    private static void Row(StringBuilder s, string name, string value) =>
        s.Append("<tr><td>").Append(E(name)).Append("</td><td>").Append(E(value)).Append("</td></tr>");

    private static string Pct(double? v) => v is { } x ? (x * 100).ToString("0.00", CultureInfo.InvariantCulture) + " %" : "—";
    private static string Db(double? v) => v is { } x ? (double.IsPositiveInfinity(x) ? "∞" : x.ToString("0.0", CultureInfo.InvariantCulture) + " dB") : "—";
    private static string E(string text) => WebUtility.HtmlEncode(text);
}
