using System.Text.Json;
using EdgeAgent.Compression.Bundles;
using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Daemon.Inference;

/// <summary>
/// What a bundle's manifest and graph say about feeding the model sensor windows: the input and score
/// tensors, the window shape and layout, the preprocessing, the class names and the value that feeds the
/// trainable head (the backbone embedding the reservoir stores). Every inconsistency is a
/// <see cref="ModelLoadException"/> naming the bundle and the manifest field or graph value at fault.
///
/// <para>The manifest's <c>preprocess</c> object, all members optional:
/// <c>{"layout": "NLC"|"NCL", "window": 256, "channels": 3, "mean": [..], "std": [..], "removeWindowMean": true, "sampleRateHz": 1000}</c>.
/// NLC (default) is time-major <c>[N, window, channels]</c>, NCL channel-major <c>[N, channels, window]</c> as
/// Conv1d models take it. Window and channels default to the input's shape.</para>
/// </summary>
internal sealed record BundleModelLayout
{
    private static readonly HashSet<string> s_preprocessKeys = new(StringComparer.Ordinal)
        { "layout", "window", "channels", "mean", "std", "removeWindowMean", "sampleRateHz" };

    public required string InputName { get; init; }
    /// <summary>The input's shape with batch 1, as the session is fed.</summary>
    public required int[] InputShape { get; init; }
    public required string ScoresName { get; init; }
    public required int WindowSize { get; init; }
    public required int Channels { get; init; }
    public required Preprocessing Preprocessing { get; init; }
    public required string[] ClassNames { get; init; }
    /// <summary>The graph value the trainable head reads from the backbone, or null when the bundle marks no head.</summary>
    public string? EmbeddingValue { get; init; }
    public bool OutputsProbabilities { get; init; }
    /// <summary>The sample rate the model was trained at, when the manifest records it.</summary>
    public double? SampleRateHz { get; init; }

    public static BundleModelLayout From(BundleManifest manifest, Graph graph, string source)
    {
        ModelLoadException Error(string where, string why) => new($"{source}: {where}: {why}");

        var inputs = graph.RuntimeInputs.ToList();
        if (inputs.Count != 1)
            throw Error("graph inputs", $"the daemon feeds one window tensor, the model has {inputs.Count} inputs ({string.Join(", ", inputs.Select(i => i.Name))})");
        var input = inputs[0];
        if (input.ElementType != DataType.Float)
            throw Error($"input '{input.Name}'", $"element type {input.ElementType.ToName()}; the daemon feeds float32 windows");
        if (input.Shape is not { Count: >= 2 } dims)
            throw Error($"input '{input.Name}'", "needs a declared shape [batch, ...]");
        if (dims[0].Value is { } batch && batch != 1)
            throw Error($"input '{input.Name}'", $"batch dimension is {batch}; the daemon runs one window at a time (1 or symbolic)");
        var sample = new int[dims.Count - 1];
        for (int d = 1; d < dims.Count; d++)
        {
            if (dims[d].Value is not { } v || v <= 0 || v > int.MaxValue)
                throw Error($"input '{input.Name}'", $"dimension {d} is {(dims[d].Value?.ToString() ?? "symbolic")}; window dimensions must be fixed");
            sample[d - 1] = (int)v;
        }
        int sampleLength = sample.Aggregate(1, (a, v) => checked(a * v));

        JsonElement? pre = manifest.Preprocess;
        if (pre is { } p)
            foreach (var member in p.EnumerateObject())
                if (!s_preprocessKeys.Contains(member.Name))
                    throw Error($"manifest.preprocess.{member.Name}", $"unknown member (known: {string.Join(", ", s_preprocessKeys)})");

        string layout = ReadString(pre, "layout", Error) ?? "NLC";
        if (layout is not ("NLC" or "NCL")) throw Error("manifest.preprocess.layout", $"'{layout}' is neither NLC (time-major) nor NCL (channel-major)");
        bool channelMajor = layout == "NCL";
        int? window = ReadInt(pre, "window", Error), channels = ReadInt(pre, "channels", Error);
        if (window is null && channels is null)
        {
            if (sample.Length == 1) { window = sample[0]; channels = 1; }
            else if (sample.Length == 2) { window = channelMajor ? sample[1] : sample[0]; channels = channelMajor ? sample[0] : sample[1]; }
            else throw Error($"input '{input.Name}'", $"shape {Tensor.FormatShape(sample)} per window is neither [window] nor [window, channels]; give manifest.preprocess.window and channels");
        }
        else
        {
            channels ??= sampleLength / window!.Value;
            window ??= sampleLength / channels.Value;
        }
        if (window <= 0 || channels <= 0 || (long)window.Value * channels.Value != sampleLength)
            throw Error("manifest.preprocess", $"window {window} x channels {channels} does not match input '{input.Name}' of {sampleLength} values per window");

        float[] mean = ReadFloats(pre, "mean", Error) ?? new float[channels.Value];
        float[] std = ReadFloats(pre, "std", Error) ?? Enumerable.Repeat(1f, channels.Value).ToArray();
        if (mean.Length != channels || std.Length != channels)
            throw Error("manifest.preprocess", $"mean has {mean.Length} and std {std.Length} values; the model has {channels} channels");
        bool removeMean = pre is { } r && r.TryGetProperty("removeWindowMean", out var rm)
            ? rm.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Error("manifest.preprocess.removeWindowMean", "must be true or false"),
            }
            : false;
        Preprocessing preprocessing;
        try { preprocessing = new Preprocessing(mean, std, removeMean, channelMajor); }
        catch (ArgumentException e) { throw Error("manifest.preprocess", e.Message); }
        double? rate = pre is { } q && q.TryGetProperty("sampleRateHz", out var rateElement)
            ? rateElement.ValueKind == JsonValueKind.Number && rateElement.GetDouble() > 0 ? rateElement.GetDouble() : throw Error("manifest.preprocess.sampleRateHz", "must be a positive number")
            : null;

        if (graph.Outputs.Count == 0) throw Error("graph outputs", "the model has none");
        var scores = graph.Outputs[0];
        if (scores.ElementType is not (DataType.Float or DataType.Undefined))
            throw Error($"output '{scores.Name}'", $"element type {scores.ElementType.ToName()}; class scores must be float32");
        int? declaredClasses = scores.Shape is { Count: >= 1 } os && os[^1].Value is { } c && c > 0 ? (int)c : null;
        string[] classNames = manifest.Labels;
        if (classNames.Length == 0)
        {
            if (declaredClasses is null) throw Error("manifest.labels", $"empty, and output '{scores.Name}' declares no class count");
            classNames = Enumerable.Range(0, declaredClasses.Value).Select(i => $"class{i}").ToArray();
        }
        else if (declaredClasses is { } n && n != classNames.Length)
            throw Error("manifest.labels", $"{classNames.Length} labels but output '{scores.Name}' has {n} classes");
        bool probabilities = graph.Nodes.FirstOrDefault(node => node.Outputs.Contains(scores.Name)) is { OpType: "Softmax" };

        string? embedding = null;
        if (manifest.Trainable is { Nodes.Length: > 0 } head)
        {
            // The embedding is the one value entering the head from the backbone: read by a head node, produced
            // by no head node, not a weight (the head's nodes include its weights' DequantizeLinear in a QDQ model).
            var headNodes = new HashSet<string>(head.Nodes, StringComparer.Ordinal);
            foreach (var missing in head.Nodes.Where(n => graph.Nodes.All(node => node.Name != n)))
                throw Error("manifest.trainable.nodes", $"the graph has no node '{missing}'");
            var members = graph.Nodes.Where(node => headNodes.Contains(node.Name)).ToList();
            var produced = new HashSet<string>(members.SelectMany(node => node.Outputs), StringComparer.Ordinal);
            var entering = members.SelectMany(node => node.Inputs)
                .Where(v => v.Length > 0 && !produced.Contains(v) && !graph.Initializers.ContainsKey(v))
                .Distinct(StringComparer.Ordinal).ToList();
            if (entering.Count != 1)
                throw Error("manifest.trainable", $"the head ({string.Join(", ", head.Nodes)}) takes {entering.Count} values from the rest of the graph ({string.Join(", ", entering)}); the embedding must be exactly one");
            embedding = entering[0];
            if (graph.RuntimeInputs.Any(i => i.Name == embedding))
                throw Error("manifest.trainable", $"the head reads the model input '{embedding}' directly; there is no backbone embedding");
        }

        return new BundleModelLayout
        {
            InputName = input.Name,
            InputShape = [1, .. sample],
            ScoresName = scores.Name,
            WindowSize = window.Value,
            Channels = channels.Value,
            Preprocessing = preprocessing,
            ClassNames = classNames,
            EmbeddingValue = embedding,
            OutputsProbabilities = probabilities,
            SampleRateHz = rate,
        };
    }

    private static string? ReadString(JsonElement? pre, string name, Func<string, string, ModelLoadException> error)
    {
        if (pre is not { } p || !p.TryGetProperty(name, out var e)) return null;
        return e.ValueKind == JsonValueKind.String ? e.GetString() : throw error($"manifest.preprocess.{name}", "must be a string");
    }

    private static int? ReadInt(JsonElement? pre, string name, Func<string, string, ModelLoadException> error)
    {
        if (pre is not { } p || !p.TryGetProperty(name, out var e)) return null;
        return e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int v) && v > 0 ? v : throw error($"manifest.preprocess.{name}", "must be a positive integer");
    }

    private static float[]? ReadFloats(JsonElement? pre, string name, Func<string, string, ModelLoadException> error)
    {
        if (pre is not { } p || !p.TryGetProperty(name, out var e)) return null;
        if (e.ValueKind != JsonValueKind.Array) throw error($"manifest.preprocess.{name}", "must be an array of numbers");
        var values = new float[e.GetArrayLength()];
        int i = 0;
        foreach (var item in e.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number) throw error($"manifest.preprocess.{name}[{i}]", "must be a number");
            values[i++] = item.GetSingle();
        }
        return values;
    }
}
