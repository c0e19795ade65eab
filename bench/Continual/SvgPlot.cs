using System.Globalization;
using System.Text;

namespace EdgeAgent.Bench.Continual;

/// <summary>A minimal line chart as a standalone SVG: axes, grid, one polyline with markers per series, a legend.</summary>
internal sealed class SvgPlot
{
    private static readonly string[] Palette = ["#d62728", "#7f7f7f", "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"];
    private readonly StringBuilder _svg = new();
    private readonly int _width, _height;

    public SvgPlot(int width, int height)
    {
        _width = width; _height = height;
        _svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        _svg.Append(CultureInfo.InvariantCulture, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n");
    }

    /// <summary>Draws one chart in the box (x0, y0, w, h); y is a fraction in [0, 1] shown as percent.</summary>
    public void Chart(double x0, double y0, double w, double h, string title, string xLabel, string[] xTicks,
        IReadOnlyList<(string Name, double[] Values)> series)
    {
        double left = x0 + 50, top = y0 + 30, pw = w - 70, ph = h - 80;
        string F(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);
        _svg.Append($"<text x=\"{F(x0 + w / 2)}\" y=\"{F(y0 + 18)}\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">{Escape(title)}</text>\n");
        for (int g = 0; g <= 10; g += 2)
        {
            double y = top + ph - ph * g / 10.0;
            _svg.Append($"<line x1=\"{F(left)}\" y1=\"{F(y)}\" x2=\"{F(left + pw)}\" y2=\"{F(y)}\" stroke=\"#ddd\"/>\n");
            _svg.Append($"<text x=\"{F(left - 6)}\" y=\"{F(y + 4)}\" text-anchor=\"end\">{g * 10}%</text>\n");
        }
        double X(int i) => xTicks.Length == 1 ? left + pw / 2 : left + pw * i / (xTicks.Length - 1);
        for (int i = 0; i < xTicks.Length; i++)
            _svg.Append($"<text x=\"{F(X(i))}\" y=\"{F(top + ph + 16)}\" text-anchor=\"middle\">{Escape(xTicks[i])}</text>\n");
        _svg.Append($"<line x1=\"{F(left)}\" y1=\"{F(top + ph)}\" x2=\"{F(left + pw)}\" y2=\"{F(top + ph)}\" stroke=\"black\"/>\n");
        _svg.Append($"<line x1=\"{F(left)}\" y1=\"{F(top)}\" x2=\"{F(left)}\" y2=\"{F(top + ph)}\" stroke=\"black\"/>\n");
        _svg.Append($"<text x=\"{F(left + pw / 2)}\" y=\"{F(top + ph + 34)}\" text-anchor=\"middle\">{Escape(xLabel)}</text>\n");
        for (int s = 0; s < series.Count; s++)
        {
            string colour = Palette[s % Palette.Length];
            var points = series[s].Values.Select((v, i) => $"{F(X(i))},{F(top + ph - ph * Math.Clamp(v, 0, 1))}");
            _svg.Append($"<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{string.Join(' ', points)}\"/>\n");
            for (int i = 0; i < series[s].Values.Length; i++)
                _svg.Append($"<circle cx=\"{F(X(i))}\" cy=\"{F(top + ph - ph * Math.Clamp(series[s].Values[i], 0, 1))}\" r=\"3\" fill=\"{colour}\"/>\n");
        }
        Legend(left + 10, top + ph - 10, series.Select(x => x.Name).ToList());
        _svg.Append($"<text transform=\"translate({F(x0 + 14)},{F(top + ph / 2)}) rotate(-90)\" text-anchor=\"middle\">accuracy</text>\n");
    }

    /// <summary>
    /// A boxed legend, one row per series (line and marker in its colour, then its name), anchored by its
    /// bottom-left corner: the low-left corner of these charts is empty, as accuracy starts high.
    /// </summary>
    private void Legend(double x, double bottom, IReadOnlyList<string> names)
    {
        string F(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);
        const double Row = 18, Pad = 8;
        double width = Pad * 2 + 30 + names.Max(n => n.Length) * 7.0;
        double height = Pad * 2 + Row * names.Count - 4;
        double y = bottom - height;
        _svg.Append($"<rect x=\"{F(x)}\" y=\"{F(y)}\" width=\"{F(width)}\" height=\"{F(height)}\" fill=\"white\" fill-opacity=\"0.9\" stroke=\"#999\"/>\n");
        for (int s = 0; s < names.Count; s++)
        {
            string colour = Palette[s % Palette.Length];
            double ry = y + Pad + Row * s + 6;
            _svg.Append($"<line x1=\"{F(x + Pad)}\" y1=\"{F(ry)}\" x2=\"{F(x + Pad + 22)}\" y2=\"{F(ry)}\" stroke=\"{colour}\" stroke-width=\"2\"/>\n");
            _svg.Append($"<circle cx=\"{F(x + Pad + 11)}\" cy=\"{F(ry)}\" r=\"3\" fill=\"{colour}\"/>\n");
            _svg.Append($"<text x=\"{F(x + Pad + 30)}\" y=\"{F(ry + 4)}\">{Escape(names[s])}</text>\n");
        }
    }

    public string Finish() => _svg + "</svg>\n";

    private static string Escape(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
