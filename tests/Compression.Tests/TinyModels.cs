using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Compression.Tests;

/// <summary>Small float models built in code (random weights, fixed seeds) for quantization tests.</summary>
internal static class TinyModels
{
    /// <summary>input [N,16] → Gemm(transB=1) 32 → Relu → Gemm(transB=0) 8 → output "logits".</summary>
    public static OnnxModel Mlp(int seed = 1, int inputs = 16, int hidden = 32)
    {
        var rng = new Random(seed);
        float[] R(int n, float scale) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * scale).ToArray();
        var g = new Graph { Name = "mlp" };
        g.Inputs.Add(new ValueInfo("input", DataType.Float, [Dim.Symbolic("N"), Dim.Known(inputs)]));
        g.Outputs.Add(new ValueInfo("logits", DataType.Float, [Dim.Symbolic("N"), Dim.Known(8)]));
        g.Initializers["fc1.weight"] = Tensor.FromArray<float>(R(hidden * inputs, 0.4f), hidden, inputs);
        g.Initializers["fc1.bias"] = Tensor.FromArray<float>(R(hidden, 0.1f), hidden);
        g.Initializers["fc2.weight"] = Tensor.FromArray<float>(R(hidden * 8, 0.4f), hidden, 8);
        g.Initializers["fc2.bias"] = Tensor.FromArray<float>(R(8, 0.1f), 8);
        g.Nodes.Add(new Node("Gemm", ["input", "fc1.weight", "fc1.bias"], ["h"], "fc1").With(NodeAttribute.Of("transB", 1L)));
        g.Nodes.Add(new Node("Relu", ["h"], ["h_relu"], "relu1"));
        g.Nodes.Add(new Node("Gemm", ["h_relu", "fc2.weight", "fc2.bias"], ["logits"], "fc2"));
        return OnnxModel.Create(g, 17);
    }

    /// <summary>Samples [count,16] with a fixed seed.</summary>
    public static float[] Inputs(int count, int seed = 7)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count * 16).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }
}
