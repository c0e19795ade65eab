using EdgeAgent.Runtime.Ir;
using Xunit;

namespace EdgeAgent.Runtime.Tests;

/// <summary>
/// QuantizeLinear's vector paths (AVX-512, AVX2, NEON: sixteen values per step) against the element-by-element
/// definition, bit for bit: exact ties (rounded to even), NaN, infinities, values far outside the 8-bit range, a tail
/// shorter than a vector, and a scale that is not a power of two.
/// </summary>
public class QuantizeLinearVectorTests
{
    [Theory]
    [InlineData(0.25f, 128, false)]
    [InlineData(0.25f, -3, true)]
    [InlineData(0.0371f, 7, false)]
    [InlineData(0.0371f, 0, true)]
    public void Vector_paths_match_the_definition(float scale, int zeroPoint, bool signed)
    {
        const int length = 37 * 16 + 5;
        var x = new float[length];
        var random = new Random(41);
        for (int i = 0; i < length; i++)
        {
            x[i] = (i % 5) switch
            {
                0 => (random.Next(-300, 300) + 0.5f) * scale,         // a tie when the scale is a power of two
                1 => (float)(random.NextDouble() * 20 - 10) * scale * 30,
                2 => random.Next(-40, 40) * scale,
                3 => (float)(random.NextDouble() - 0.5) * 1e6f,
                _ => (float)(random.NextDouble() * 4 - 2),
            };
        }
        x[3] = float.NaN;
        x[100] = float.PositiveInfinity;
        x[201] = float.NegativeInfinity;
        x[length - 1] = float.NaN;

        var g = new Graph { Name = "quantize" };
        g.Inputs.Add(ValueInfo.Of("x", DataType.Float, 1, length));
        g.Outputs.Add(ValueInfo.Of("y", signed ? DataType.Int8 : DataType.UInt8, 1, length));
        g.Initializers["s"] = Tensor.Scalar(scale);
        g.Initializers["z"] = signed ? Tensor.Scalar((sbyte)zeroPoint) : Tensor.Scalar((byte)zeroPoint);
        g.Nodes.Add(new Node("QuantizeLinear", ["x", "s", "z"], ["y"], "q"));
        using var session = InferenceSession.FromModel(OnnxModel.Create(g, 17), new SessionOptions { Threads = 1 });
        var y = session.Run([Tensor.FromArray<float>(x, 1, length)])[0];
        var actual = signed ? y.ToArray<sbyte>().Select(v => (int)v).ToArray() : y.ToArray<byte>().Select(v => (int)v).ToArray();

        for (int i = 0; i < length; i++)
        {
            float q = MathF.Round(x[i] / scale, MidpointRounding.ToEven);
            if (float.IsNaN(q)) q = 0;
            int expected = (int)Math.Clamp(q + zeroPoint, signed ? -128f : 0f, signed ? 127f : 255f);
            Assert.True(expected == actual[i], $"element {i}: x = {x[i]:R}, expected {expected}, got {actual[i]}");
        }
    }
}
