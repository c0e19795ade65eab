using System.CommandLine;
using EdgeAgent.Compression.IO;
using EdgeAgent.Compression.Pruning;
using EdgeAgent.Exporter.Cli;
using EdgeAgent.Runtime.Onnx;

namespace EdgeAgent.Exporter.Commands;

/// <summary>exporter prune IN.onnx -o OUT.onnx --sparsity 0.5 [--structured].</summary>
internal static class PruneCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("model") { Description = "The float ONNX model.", HelpName = "IN.onnx" };
        var output = new Option<string>("--output", "-o") { Description = "The pruned model to write.", Required = true, HelpName = "OUT.onnx" };
        var sparsity = new Option<double>("--sparsity") { Description = "Fraction of weights (or output channels with --structured) to remove, 0 < s < 1.", Required = true, HelpName = "S" };
        var structured = new Option<bool>("--structured") { Description = "Remove whole output channels and shrink the layers that read them." };
        var exclude = new Option<string[]>("--exclude") { Description = "Node names to leave alone.", HelpName = "NODE", AllowMultipleArgumentsPerToken = true };
        var command = new Command("prune", "Magnitude pruning; --structured removes whole channels so the model gets smaller and faster.")
        {
            input, output, sparsity, structured, exclude,
        };
        command.SetAction(parse => ExporterCli.Guard("prune", () =>
        {
            var inPath = Paths.ExistingFile(parse.GetValue(input), "model");
            var outPath = Paths.OutputFile(parse.GetValue(output), "--output");
            double s = parse.GetValue(sparsity);
            if (!(s > 0 && s < 1)) throw new UsageException($"--sparsity {s} must be between 0 and 1 (exclusive)");
            var model = ModelFiles.Load(inPath);
            var excluded = new HashSet<string>(parse.GetValue(exclude) ?? [], StringComparer.Ordinal);
            foreach (var name in excluded)
                if (!model.Graph.Nodes.Any(n => n.Name == name)) throw new UsageException($"--exclude: no node named '{name}' in {inPath}");
            IReadOnlyList<PrunedLayer> layers;
            try
            {
                layers = parse.GetValue(structured)
                    ? MagnitudePruner.PruneStructured(model, s, excluded)
                    : MagnitudePruner.PruneUnstructured(model, s, excluded);
            }
            catch (InvalidOperationException e) { throw new CommandFailedException($"{inPath}: {e.Message}", e); }
            if (layers.Count == 0) throw new CommandFailedException($"{inPath}: no layer could be pruned (structured pruning needs a Conv/Gemm whose channels feed another Conv/Gemm)");
            var bytes = OnnxWriter.ToBytes(model);
            AtomicFile.WriteAllBytes(outPath, bytes);
            Console.Out.WriteLine($"{outPath}: {layers.Count} layers pruned, {bytes.Length} bytes ({bytes.Length / (double)new FileInfo(inPath).Length:0.000}× of the input)");
            foreach (var l in layers)
                Console.Out.WriteLine(l.ChannelsBefore > 0
                    ? $"  {l.Node,-24} {l.OpType,-5} channels {l.ChannelsBefore} → {l.ChannelsAfter}, weights {l.ParametersBefore:N0} → {l.ParametersAfter:N0}"
                    : $"  {l.Node,-24} {l.OpType,-5} non-zero weights {l.ParametersBefore:N0} → {l.ParametersAfter:N0}");
            return ExitCodes.Success;
        }));
        return command;
    }
}
