using System.CommandLine;
using System.Globalization;
using EdgeAgent.Compression.Data;
using EdgeAgent.Compression.Evaluation;
using EdgeAgent.Compression.IO;
using EdgeAgent.Exporter.Cli;

namespace EdgeAgent.Exporter.Commands;

/// <summary>exporter report MODEL.onnx [--reference FLOAT.onnx] [--data LABELED] [--html FILE].</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "The model to report on (typically the quantized one).", HelpName = "MODEL.onnx" };
        var reference = new Option<string?>("--reference") { Description = "The float model to compare against.", HelpName = "FLOAT.onnx" };
        var data = new Option<string?>("--data") { Description = "Labelled samples (IDX images with labels beside, .npz with x/y, CSV with the label last).", HelpName = "LABELED" };
        var samples = new Option<int>("--samples") { Description = "Use at most this many samples.", DefaultValueFactory = _ => 10000, HelpName = "N" };
        var html = new Option<string?>("--html") { Description = "Also write a self-contained HTML page with charts.", HelpName = "FILE" };
        var command = new Command("report", "Size, parameters, MACs, per-layer SQNR, agreement and accuracy of a model (against its float reference).")
        {
            model, reference, data, samples, html,
        };
        command.SetAction(parse => ExporterCli.Guard("report", () =>
        {
            var path = Paths.ExistingFile(parse.GetValue(model), "model");
            var refPath = parse.GetValue(reference) is { } r ? Paths.ExistingFile(r, "--reference") : null;
            var htmlPath = parse.GetValue(html) is { } h ? Paths.OutputFile(h, "--html") : null;
            int limit = parse.GetValue(samples);
            if (limit <= 0) throw new UsageException("--samples must be positive");
            var m = ModelFiles.Load(path);
            var refModel = refPath is null ? null : ModelFiles.Load(refPath);
            SampleSet? set = null;
            if (parse.GetValue(data) is { } d)
            {
                if (!File.Exists(d) && !Directory.Exists(d)) throw new UsageException($"--data '{d}' does not exist");
                try { set = DatasetLoader.Load(d, m.Graph.RuntimeInputs.ToList(), wantLabels: true, limit); }
                catch (DataFormatException e) { throw new CommandFailedException($"--data: {e.Message}", e); }
            }
            var report = ModelReporter.Measure(path, m, refPath, refModel, set, (done, total) => ProgressLine.Show("measuring", done, total));
            ProgressLine.Done();
            Print(report);
            if (htmlPath is not null)
            {
                AtomicFile.WriteAllText(htmlPath, HtmlReport.Render(report));
                Console.Out.WriteLine($"HTML report: {htmlPath}");
            }
            return ExitCodes.Success;
        }));
        return command;
    }

    private static string F(double? v, string format, string suffix = "") =>
        v is { } x ? (double.IsPositiveInfinity(x) ? "∞" : x.ToString(format, CultureInfo.InvariantCulture)) + suffix : "—";

    private static void Print(ModelReport r)
    {
        var o = Console.Out;
        o.WriteLine($"model        {r.ModelPath}  ({r.ModelBytes:N0} bytes{(r.ReferenceBytes is { } rb ? $", {r.ModelBytes / (double)rb:0.000}× of the reference's {rb:N0}" : "")})");
        o.WriteLine($"parameters   {r.Parameters:N0}");
        o.WriteLine($"MACs/sample  {r.Macs:N0}");
        if (r.Samples > 0)
        {
            o.WriteLine($"samples      {r.Samples} (engine: {r.Engine}{(r.ReferenceEngine is { } re ? $", reference on {re}" : "")})");
            o.WriteLine($"accuracy     {F(r.Accuracy * 100, "0.00", " %")}{(r.ReferenceAccuracy is { } ra ? $"   reference {ra * 100:0.00} %" : "")}");
            if (r.Top1Agreement is not null) o.WriteLine($"top-1 agreement with reference  {F(r.Top1Agreement * 100, "0.00", " %")}");
            if (r.OutputSqnrDb is not null) o.WriteLine($"output SQNR  {F(r.OutputSqnrDb, "0.0", " dB")}");
            o.WriteLine($"latency      {F(r.LatencyMs, "0.000", " ms/sample")}{(r.ReferenceLatencyMs is { } rl ? $"   reference {rl:0.000} ms/sample" : "")}");
            if (r.EngineTop1Agreement is not null)
                o.WriteLine($"ours vs ONNX Runtime  top-1 agreement {F(r.EngineTop1Agreement * 100, "0.00", " %")}, max difference {F(r.EngineMaxDifferenceSteps, "0.000")} output steps");
            if (r.EngineNote is not null) o.WriteLine($"note         {r.EngineNote}");
        }
        o.WriteLine();
        o.WriteLine($"{"layer",-28} {"op",-7} {"params",12} {"MACs",14} {"SQNR dB",9}");
        o.WriteLine(new string('-', 74));
        foreach (var l in r.Layers)
            o.WriteLine($"{l.Node,-28} {l.OpType,-7} {l.Parameters,12:N0} {l.Macs,14:N0} {F(l.SqnrDb, "0.0"),9}");
    }
}
