using EdgeAgent.Compression.Quantization;
using Xunit;

namespace EdgeAgent.Compression.Tests;

public class PerChannelQuantizerTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void SymmetricPerChannelErrorIsWithinHalfAStep(int axis)
    {
        var rng = new Random(axis);
        int[] shape = [6, 5, 3];
        var w = new float[90];
        for (int i = 0; i < w.Length; i++) w[i] = (float)(rng.NextDouble() * 2 - 1) * (1 + i % 7);
        var (q, scales) = PerChannelQuantizer.QuantizeSymmetric(w, shape, axis);
        Assert.Equal(shape[axis], scales.Length);
        var back = PerChannelQuantizer.Dequantize(q, scales, shape, axis);
        int inner = axis == 0 ? 15 : 3;
        for (int i = 0; i < w.Length; i++)
        {
            int c = (i / inner) % shape[axis];
            Assert.InRange(q[i], (sbyte)-127, (sbyte)127);
            Assert.True(MathF.Abs(back[i] - w[i]) <= scales[c] / 2 * 1.0001f, $"element {i}");
        }
        // The largest magnitude of each channel lands on ±127.
        for (int c = 0; c < shape[axis]; c++)
        {
            int max = 0;
            for (int i = 0; i < w.Length; i++) if ((i / inner) % shape[axis] == c) max = Math.Max(max, Math.Abs((int)q[i]));
            Assert.Equal(127, max);
        }
    }

    [Fact]
    public void AllZeroChannelGetsAUsableScale()
    {
        var (q, scales) = PerChannelQuantizer.QuantizeSymmetric(new float[8], [2, 4], 0);
        Assert.All(q, v => Assert.Equal(0, v));
        Assert.All(scales, s => Assert.True(s > 0));
    }

    [Theory]
    [InlineData(-1f, 3f, QuantizedType.UInt8)]
    [InlineData(-1f, 3f, QuantizedType.Int8)]
    [InlineData(0.5f, 3f, QuantizedType.UInt8)]
    [InlineData(-4f, -1f, QuantizedType.Int8)]
    public void AsymmetricRangeRepresentsZeroExactly(float min, float max, QuantizedType type)
    {
        var p = AffineParameters.FromRange(min, max, type);
        Assert.Equal(0f, p.Dequantize(p.Quantize(0f, type)));
        foreach (var x in new[] { min, max, (min + max) / 2 })
            Assert.True(MathF.Abs(p.Dequantize(p.Quantize(x, type)) - x) <= p.Scale / 2 * 1.0001f);
    }

    [Fact]
    public void BiasScaleIsInputScaleTimesWeightScale()
    {
        var (values, scales) = PerChannelQuantizer.QuantizeBias([0.5f, -0.25f], 0.1f, [0.01f, 0.02f]);
        Assert.Equal(0.001f, scales[0], 7);
        Assert.Equal(0.002f, scales[1], 7);
        Assert.Equal(500, values[0]);
        Assert.Equal(-125, values[1]);
    }

    [Fact]
    public void ShapeMismatchIsAnError()
    {
        Assert.Throws<ArgumentException>(() => PerChannelQuantizer.QuantizeSymmetric(new float[10], [3, 3], 0));
        Assert.Throws<ArgumentException>(() => PerChannelQuantizer.QuantizeSymmetric(new float[9], [3, 3], 2));
    }
}
