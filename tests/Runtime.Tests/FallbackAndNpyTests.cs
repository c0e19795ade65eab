using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;
using Xunit;

namespace EdgeAgent.Runtime.Tests;

/// <summary>
/// A model holding an operator we do not implement is refused with the node named, and runs as a whole through
/// ONNX Runtime when the fallback is asked for; .npy files carry NumPy's one-byte 0x93 magic.
/// </summary>
public class FallbackAndNpyTests
{
    /// <summary>x[2,3] → Hardmax (not implemented here) → Relu → y.</summary>
    private static byte[] HardmaxModel()
    {
        var g = new Graph { Name = "fallback" };
        g.Inputs.Add(ValueInfo.Of("x", DataType.Float, 2, 3));
        g.Outputs.Add(ValueInfo.Of("y", DataType.Float, 2, 3));
        g.Nodes.Add(new Node("Hardmax", ["x"], ["h"], "pick_max").With(NodeAttribute.Of("axis", 1L)));
        g.Nodes.Add(new Node("Relu", ["h"], ["y"], "relu"));
        return OnnxWriter.ToBytes(OnnxModel.Create(g, 17));
    }

    [Fact]
    public void UnsupportedOperatorIsRefusedNamingTheNode()
    {
        var e = Assert.Throws<ModelLoadException>(() => InferenceSession.FromBytes(HardmaxModel()));
        Assert.True(e.IsUnsupportedFeature);
        Assert.Contains("pick_max (Hardmax)", e.Message);
    }

    [Fact]
    public void FallbackRunsTheWholeModelThroughOnnxRuntime()
    {
        using var fallback = new OnnxRuntimeFallback(HardmaxModel(), "hardmax test model");
        var x = Tensor.FromArray<float>([0.5f, -2f, 3f, 7f, 1f, -1f], 2, 3);
        var (name, y) = Assert.Single(fallback.Run(new Dictionary<string, Tensor> { ["x"] = x }));
        Assert.Equal("y", name);
        Assert.Equal(new[] { 2, 3 }, y.Shape.ToArray());
        Assert.Equal(new[] { 0f, 0f, 1f, 1f, 0f, 0f }, y.ToArray<float>());
    }

    [Fact]
    public void NpyFilesStartWithNumPysMagicByte()
    {
        var bytes = NpyFile.ToBytes(Tensor.FromArray<float>([1f, 2f, 3f], 3));
        Assert.Equal(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 }, bytes[..8]);
        Assert.Equal(0, (bytes.Length - 12) % 4);
        Assert.Equal(0, (10 + BitConverter.ToUInt16(bytes, 8)) % 64);
        // A header exactly as NumPy 1.x writes it for np.arange(3, dtype='<i4').
        string header = "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }";
        header = header.PadRight(64 - 10 - 1) + "\n";
        var numpy = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, 0 };
        numpy.AddRange(System.Text.Encoding.ASCII.GetBytes(header));
        foreach (int v in new[] { 0, 1, 2 }) numpy.AddRange(BitConverter.GetBytes(v));
        var t = NpyFile.Parse(numpy.ToArray());
        Assert.Equal(new[] { 0, 1, 2 }, t.ToArray<int>());
        Assert.Throws<ModelLoadException>(() => NpyFile.Parse([0xC2, 0x93, .. numpy.Skip(1)]));
    }
}
