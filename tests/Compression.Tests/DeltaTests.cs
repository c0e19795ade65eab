using EdgeAgent.Compression.Bundles;
using EdgeAgent.Compression.Deltas;
using EdgeAgent.Compression.Quantization;
using EdgeAgent.Compression.Signing;
using Xunit;

namespace EdgeAgent.Compression.Tests;

public sealed class DeltaTests : IDisposable
{
    private const string BaseSha = "4f2a000000000000000000000000000000000000000000000000000000000001";
    private readonly BundleSigningKey _device = BundleSigningKey.Generate();
    private readonly TrustedKeySet _trusted = new();

    public DeltaTests() => _trusted.Add(_device.PublicKey);

    public void Dispose()
    {
        _device.Dispose();
    }

    private static DeltaMetadata Meta(long samples = 100, string sha = BaseSha) => new()
    {
        ModelName = "fmnist-cnn", BaseVersion = "1.2.0", BaseModelSha256 = sha, SampleCount = samples,
        Producer = "pi-kitchen", CreatedUtc = "2026-11-23T09:30:00Z",
    };

    /// <summary>A quantized 10×64 dense head: int8 weights, per-channel scales, int32 bias and its scales.</summary>
    private static List<WeightTensor> Head(int seed, float inputScale = 0.05f)
    {
        var rng = new Random(seed);
        var w = new float[10 * 64];
        for (int i = 0; i < w.Length; i++) w[i] = (float)(rng.NextDouble() * 2 - 1) * 0.3f;
        var b = new float[10];
        for (int i = 0; i < b.Length; i++) b[i] = (float)(rng.NextDouble() - 0.5);
        return Quantize(w, b, inputScale);
    }

    private static List<WeightTensor> Quantize(float[] w, float[] b, float inputScale)
    {
        var (q, s) = PerChannelQuantizer.QuantizeSymmetric(w, [10, 64], 0);
        var (bq, bs) = PerChannelQuantizer.QuantizeBias(b, inputScale, s);
        return
        [
            WeightTensor.FromInt8("fc.w_q", [10, 64], q),
            WeightTensor.FromFloats("fc.w_scale", [10], s),
            WeightTensor.FromInt32("fc.b_q", [10], bq),
            WeightTensor.FromFloats("fc.b_scale", [10], bs),
            WeightTensor.FromInt8("fc.w_zero", [10], new sbyte[10]),
        ];
    }

    private static readonly QuantizedLayer s_layer = new("fc.w_q", "fc.w_scale", 0, "fc.b_q", "fc.b_scale");

    private static List<WeightTensor> Nudge(List<WeightTensor> head, int seed, int changes)
    {
        var dict = head.ToDictionary(t => t.Name);
        var (w, b) = s_layer.Dequantize(dict);
        var rng = new Random(seed);
        for (int k = 0; k < changes; k++) w[rng.Next(w.Length)] += (float)(rng.NextDouble() - 0.5) * 0.05f;
        b![rng.Next(b.Length)] += 0.01f;
        var updated = s_layer.Requantize(dict, w, b).ToDictionary(t => t.Name);
        return head.Select(t => updated.GetValueOrDefault(t.Name, t)).ToList();
    }

    [Fact]
    public void ComputeSignReadApplyReproducesTheUpdatedTensorsExactly()
    {
        var before = Head(1);
        var after = Nudge(before, 2, 40);
        var bytes = WeightDelta.Compute(before, after, Meta()).Sign(_device);
        var delta = WeightDelta.Verify(bytes, _trusted);
        var applied = delta.Apply(before, BaseSha);
        Assert.Equal(after.Count, applied.Count);
        for (int i = 0; i < after.Count; i++)
        {
            Assert.Equal(after[i].Name, applied[i].Name);
            Assert.Equal(after[i].Data, applied[i].Data);
        }
        Assert.Equal("pi-kitchen", delta.Metadata.Producer);
        Assert.Equal(100, delta.Metadata.SampleCount);
    }

    [Fact]
    public void LargeInt8JumpsUseTheEscapeAndStillRoundTrip()
    {
        var before = new List<WeightTensor> { WeightTensor.FromInt8("w", [4], [-127, 127, 0, 5]) };
        var after = new List<WeightTensor> { WeightTensor.FromInt8("w", [4], [127, -127, -128, 5]) };
        var delta = WeightDelta.Read(WeightDelta.Compute(before, after, Meta()).Sign(_device));
        Assert.Equal(new long[] { 254, -254, -128 }, delta.Tensors[0].Values);
        Assert.Equal(after[0].Data, delta.Apply(before, BaseSha)[0].Data);
    }

    [Fact]
    public void ADeltaBoundToAnotherBaseIsRefused()
    {
        var before = Head(3);
        var delta = WeightDelta.Compute(before, Nudge(before, 4, 5), Meta());
        var e = Assert.Throws<BundleFormatException>(() => delta.Apply(before, new string('a', 64)));
        Assert.Equal("delta.metadata.baseModelSha256", e.Field);
    }

    [Fact]
    public void ApplyingToDifferentBaseTensorsFailsTheResultHash()
    {
        var before = Head(5);
        var delta = WeightDelta.Compute(before, Nudge(before, 6, 5), Meta());
        Assert.ThrowsAny<BundleFormatException>(() => delta.Apply(Head(7), BaseSha));
    }

    [Fact]
    public void EveryFlippedBitOfASignedDeltaFailsVerification()
    {
        var before = Head(8);
        var bytes = WeightDelta.Compute(before, Nudge(before, 9, 10), Meta()).Sign(_device);
        for (int bit = 0; bit < bytes.Length * 8; bit++)
        {
            var copy = (byte[])bytes.Clone();
            copy[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.ThrowsAny<BundleException>(() => WeightDelta.Verify(copy, _trusted));
        }
    }

    [Fact]
    public void EveryTruncationIsAFormatError()
    {
        var before = Head(10);
        var bytes = WeightDelta.Compute(before, Nudge(before, 11, 10), Meta()).Sign(_device);
        for (int n = 0; n < bytes.Length; n++)
            Assert.Throws<BundleFormatException>(() => WeightDelta.Read(bytes.AsSpan(0, n).ToArray()));
    }

    [Fact]
    public void ASparseUpdateGivesASmallDelta()
    {
        // 100k-element int8 layer with 1% of the weights changed: the delta must be a small fraction of the layer.
        var rng = new Random(12);
        var q = new sbyte[100_000];
        for (int i = 0; i < q.Length; i++) q[i] = (sbyte)rng.Next(-127, 128);
        var q2 = (sbyte[])q.Clone();
        for (int k = 0; k < 1000; k++) { int i = rng.Next(q2.Length); q2[i] = (sbyte)Math.Clamp(q2[i] + rng.Next(-3, 4), -127, 127); }
        var bytes = WeightDelta.Compute([WeightTensor.FromInt8("w", [100_000], q)], [WeightTensor.FromInt8("w", [100_000], q2)], Meta()).Sign(_device);
        Assert.True(bytes.Length < 100_000 / 20, $"delta is {bytes.Length} bytes");
    }

    [Fact]
    public void FederatedAverageWeightsDevicesBySampleCount()
    {
        var baseHead = Head(13);
        var a = Nudge(baseHead, 14, 200);
        var b = Nudge(baseHead, 15, 200);
        var da = WeightDelta.Read(WeightDelta.Compute(baseHead, a, Meta(samples: 300)).Sign(_device));
        var db = WeightDelta.Read(WeightDelta.Compute(baseHead, b, Meta(samples: 100)).Sign(_device));
        var averaged = FederatedAverage.Average(baseHead, BaseSha, [da, db], [s_layer]).ToDictionary(t => t.Name);

        var (wa, ba) = s_layer.Dequantize(a.ToDictionary(t => t.Name));
        var (wb, bb) = s_layer.Dequantize(b.ToDictionary(t => t.Name));
        var (wm, bm) = s_layer.Dequantize(averaged);
        var scales = averaged["fc.w_scale"].AsFloats();
        for (int i = 0; i < wm.Length; i++)
        {
            float expected = 0.75f * wa[i] + 0.25f * wb[i];
            Assert.True(MathF.Abs(wm[i] - expected) <= scales[i / 64] * 0.5f + 1e-6f, $"weight {i}: {wm[i]} vs {expected}");
        }
        var bscales = averaged["fc.b_scale"].AsFloats();
        for (int c = 0; c < 10; c++)
        {
            Assert.True(MathF.Abs(bm![c] - (0.75f * ba![c] + 0.25f * bb![c])) <= bscales[c] * 0.5f + 1e-6f);
            // The bias scale stays input scale × weight scale.
            Assert.Equal(0.05f * scales[c], bscales[c], 6);
        }
        Assert.Equal(baseHead[4].Data, averaged["fc.w_zero"].Data);
    }

    [Fact]
    public void FederatedAverageRefusesDeltasOfAnotherBase()
    {
        var baseHead = Head(16);
        var d = WeightDelta.Compute(baseHead, Nudge(baseHead, 17, 5), Meta(sha: new string('b', 64)));
        Assert.Throws<BundleFormatException>(() => FederatedAverage.Average(baseHead, BaseSha, [d], [s_layer]));
    }
}
