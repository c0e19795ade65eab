using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Bench.Compression;

/// <summary>
/// Where the bytes of a QDQ file go: int8 weights, the per-output-channel vectors every quantized layer needs
/// (weight scales, int32 biases, bias scales — 12 bytes per channel), activation scales and zero points, float
/// initializers left over, and the graph itself (names, nodes, attributes, tensor headers: file − tensor data).
/// <see cref="FloorBytes"/> is the file with no graph at all, the least any QDQ encoding of these numbers can be.
/// </summary>
internal sealed record QdqByteBreakdown(long Int8Weights, long WeightScales, long Int32Biases, long BiasScales, long ActivationParameters,
                                        long OtherInitializers, long Graph, int OutputChannels)
{
    public long PerChannelVectors => WeightScales + Int32Biases + BiasScales;
    public long FloorBytes => Int8Weights + PerChannelVectors + ActivationParameters + OtherInitializers;

    public static QdqByteBreakdown Of(OnnxModel model, long fileBytes)
    {
        var g = model.Graph;
        var role = new Dictionary<string, string>(StringComparer.Ordinal);
        int channels = 0;
        foreach (var n in g.Nodes)
        {
            if (n.OpType is not ("QuantizeLinear" or "DequantizeLinear")) continue;
            if (n.OpType == "DequantizeLinear" && g.Initializers.TryGetValue(n.Inputs[0], out var data))
            {
                bool bias = data.DataType == DataType.Int32;
                role[n.Inputs[0]] = bias ? "bias" : "weight";
                if (n.Inputs.Count > 1) role[n.Inputs[1]] = bias ? "bias_scale" : "weight_scale";
                if (n.Inputs.Count > 2 && n.Inputs[2].Length > 0) role[n.Inputs[2]] = bias ? "bias_scale" : "weight_scale";
                if (bias) channels += data.ElementCount;
                continue;
            }
            for (int k = 1; k < n.Inputs.Count; k++) role.TryAdd(n.Inputs[k], "activation");
        }
        long Sum(string r) => g.Initializers.Where(kv => role.GetValueOrDefault(kv.Key) == r).Sum(kv => (long)kv.Value.ByteLength);
        long all = g.Initializers.Values.Sum(t => (long)t.ByteLength);
        long known = Sum("weight") + Sum("weight_scale") + Sum("bias") + Sum("bias_scale") + Sum("activation");
        return new QdqByteBreakdown(Sum("weight"), Sum("weight_scale"), Sum("bias"), Sum("bias_scale"), Sum("activation"),
                                    all - known, fileBytes - all, channels);
    }
}
