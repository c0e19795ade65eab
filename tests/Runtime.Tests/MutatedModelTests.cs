using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;
using Xunit;

namespace EdgeAgent.Runtime.Tests;

/// <summary>
/// Thousands of corrupted copies of real ONNX models (ONNX's own test models from Debian's
/// libonnx-testdata): bit flips, truncations, swapped and duplicated byte ranges, overwritten varints.
/// Loading, planning and one Run may only fail with our clean exceptions — never a crash, an
/// out-of-memory or an unrelated exception type.
/// </summary>
public class MutatedModelTests
{
    private const string Data = "/usr/share/libonnx-testdata/data";

    // Real models covering convolutions, quantized ops, shape ops and larger graphs.
    private static readonly string[] s_models =
    [
        "node/test_conv_with_strides_padding", "node/test_qlinearconv", "node/test_qlinearmatmul_2D",
        "node/test_matmulinteger", "node/test_convinteger_with_padding", "node/test_gemm_all_attributes",
        "node/test_reshape_negative_dim", "node/test_slice", "node/test_gather_1", "node/test_resize_upsample_scales_linear",
        "node/test_maxpool_2d_pads", "node/test_averagepool_2d_ceil", "node/test_batchnorm_example", "node/test_softmax_axis_1",
        "node/test_concat_3d_axis_1", "node/test_transpose_all_permutations_1", "node/test_pad", "node/test_expand_dim_changed",
        "node/test_quantizelinear_axis", "node/test_dequantizelinear_axis", "node/test_convtranspose_pads", "node/test_where_example",
        "pytorch-converted/test_Conv2d_groups", "pytorch-converted/test_Linear", "simple/test_single_relu_model",
    ];

    private const int Rounds = 400;

    private static readonly LoadLimits s_limits = new() { MaxTensorBytes = 16 << 20, MaxModelBytes = 64 << 20 };

    public static IEnumerable<object[]> Models() =>
        s_models.Where(m => File.Exists(Path.Combine(Data, m, "model.onnx"))).Select(m => new object[] { m });

    [Fact]
    public void TestDataIsInstalled() =>
        Assert.True(Models().Count() >= 20, $"libonnx-testdata models missing under {Data}");

    [Theory]
    [MemberData(nameof(Models))]
    public void MutationsFailCleanly(string model)
    {
        var original = File.ReadAllBytes(Path.Combine(Data, model, "model.onnx"));
        var random = new Random(model.GetHashCode(StringComparison.Ordinal) & 0x7FFFFFFF ^ 12345);
        int rejected = 0, accepted = 0;
        for (int round = 0; round < Rounds; round++)
        {
            var mutated = Mutate(original, random, round);
            try
            {
                LoadPlanRun(mutated);
                accepted++;
            }
            catch (ModelLoadException) { rejected++; }
            catch (InferenceException) { rejected++; }
            catch (Exception e)
            {
                Assert.Fail($"{model}, mutation {round} ({Describe(round)}): {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            }
        }
        Assert.True(rejected > 0, $"{model}: no mutation was rejected");
        Assert.Equal(Rounds, rejected + accepted);
    }

    private static void LoadPlanRun(byte[] bytes)
    {
        var model = OnnxReader.Load(bytes, null, s_limits);
        var session = InferenceSession.FromModel(model, new SessionOptions { Limits = s_limits });
        var inputs = new Tensor[session.Inputs.Count];
        for (int k = 0; k < inputs.Length; k++)
        {
            var info = session.Inputs[k];
            var shape = info.Shape?.Select(d => (int)Math.Min(d.Value ?? 1, 64)).ToArray() ?? [1];
            if (shape.Aggregate(1L, (a, d) => a * d) > 1 << 20) return;
            inputs[k] = Tensor.Allocate(info.ElementType, shape);
        }
        try { session.Run(inputs); }
        catch (ArgumentException) { } // inputs that do not fit a mutated declaration
    }

    private static string Describe(int round) => (round % 6) switch
    {
        0 => "bit flips", 1 => "truncation", 2 => "swapped ranges", 3 => "duplicated range",
        4 => "varint overwrite", _ => "random bytes",
    };

    private static byte[] Mutate(byte[] original, Random random, int round)
    {
        var b = (byte[])original.Clone();
        int n = b.Length;
        switch (round % 6)
        {
            case 0:
                for (int k = random.Next(1, 5); k > 0; k--) b[random.Next(n)] ^= (byte)(1 << random.Next(8));
                return b;
            case 1:
                return b[..random.Next(n)];
            case 2:
            {
                int len = random.Next(1, Math.Max(2, n / 8));
                int x = random.Next(n - len), y = random.Next(n - len);
                var tmp = b.AsSpan(x, len).ToArray();
                b.AsSpan(y, len).CopyTo(b.AsSpan(x, len));
                tmp.CopyTo(b.AsSpan(y, len));
                return b;
            }
            case 3:
            {
                int len = random.Next(1, Math.Max(2, n / 4));
                int x = random.Next(n - len), at = random.Next(n);
                return [.. b[..at], .. b.AsSpan(x, len).ToArray(), .. b[at..]];
            }
            case 4:
            {
                // Overwrite bytes with a maximal varint: huge lengths, dims, counts.
                int at = random.Next(n);
                for (int k = 0; k < 9 && at + k < n; k++) b[at + k] = k == 8 ? (byte)0x01 : (byte)0xFF;
                return b;
            }
            default:
                for (int k = random.Next(1, 16); k > 0; k--) b[random.Next(n)] = (byte)random.Next(256);
                return b;
        }
    }
}
