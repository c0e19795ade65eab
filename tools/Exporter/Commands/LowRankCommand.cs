using System.CommandLine;
using EdgeAgent.Compression.Factorization;
using EdgeAgent.Compression.IO;
using EdgeAgent.Exporter.Cli;
using EdgeAgent.Runtime.Onnx;

namespace EdgeAgent.Exporter.Commands;

/// <summary>exporter lowrank IN.onnx -o OUT.onnx (--rank R | --energy 0.95).</summary>
internal static class LowRankCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("model") { Description = "The float ONNX model.", HelpName = "IN.onnx" };
        var output = new Option<string>("--output", "-o") { Description = "The factorised model to write.", Required = true, HelpName = "OUT.onnx" };
        var rank = new Option<int?>("--rank") { Description = "Keep this many singular values per layer.", HelpName = "R" };
        var energy = new Option<double?>("--energy") { Description = "Keep the fewest singular values holding this fraction of each weight's energy (default 0.95).", HelpName = "E" };
        var exclude = new Option<string[]>("--exclude") { Description = "Node names to leave alone.", HelpName = "NODE", AllowMultipleArgumentsPerToken = true };
        var command = new Command("lowrank", "Factorise Gemm, MatMul and 1x1 Conv weights by SVD into two thinner layers.")
        {
            input, output, rank, energy, exclude,
        };
        command.SetAction(parse => ExporterCli.Guard("lowrank", () =>
        {
            var inPath = Paths.ExistingFile(parse.GetValue(input), "model");
            var outPath = Paths.OutputFile(parse.GetValue(output), "--output");
            var r = parse.GetValue(rank);
            var e = parse.GetValue(energy);
            if (r is not null && e is not null) throw new UsageException("give either --rank or --energy, not both");
            if (r is <= 0) throw new UsageException("--rank must be positive");
            if (e is { } ev && !(ev > 0 && ev <= 1)) throw new UsageException("--energy must be in (0, 1]");
            var model = ModelFiles.Load(inPath);
            var options = new LowRankOptions
            {
                Rank = r,
                Energy = e ?? 0.95,
                Exclude = new HashSet<string>(parse.GetValue(exclude) ?? [], StringComparer.Ordinal),
            };
            var layers = LowRankFactorizer.Factorize(model, options);
            if (layers.Count == 0) throw new CommandFailedException($"{inPath}: no layer got smaller at this rank/energy (a K×N weight only pays off below rank K·N/(K+N))");
            var bytes = OnnxWriter.ToBytes(model);
            AtomicFile.WriteAllBytes(outPath, bytes);
            Console.Out.WriteLine($"{outPath}: {layers.Count} layers factorised, {bytes.Length} bytes ({bytes.Length / (double)new FileInfo(inPath).Length:0.000}× of the input)");
            foreach (var l in layers)
                Console.Out.WriteLine($"  {l.Node,-24} {l.OpType,-6} {l.Rows}×{l.Cols} → rank {l.Rank} ({l.EnergyKept * 100:0.0}% energy), weights {l.ParametersBefore:N0} → {l.ParametersAfter:N0}");
            return ExitCodes.Success;
        }));
        return command;
    }
}
