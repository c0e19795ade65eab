namespace EdgeAgent.Runtime.Ops;

/// <summary>
/// Moves images between ONNX's NCHW and the kernels' NHWC (channels innermost). Compiled convolutions do
/// this at their edges, into buffers they own, so the graph keeps ONNX's layout.
/// </summary>
internal static class NhwcLayout
{
    /// <summary>[n][c][p] → [n][p][c] for <paramref name="batch"/> images of <paramref name="pixels"/> pixels.</summary>
    public static void ToNhwc<T>(ReadOnlySpan<T> src, Span<T> dst, int batch, int channels, int pixels)
    {
        if (channels == 1 || pixels == 1) { src[..(batch * channels * pixels)].CopyTo(dst); return; }
        for (int n = 0; n < batch; n++)
        {
            var s = src.Slice(n * channels * pixels, channels * pixels);
            var d = dst.Slice(n * channels * pixels, channels * pixels);
            for (int c = 0; c < channels; c++)
            {
                var plane = s.Slice(c * pixels, pixels);
                for (int p = 0; p < plane.Length; p++) d[p * channels + c] = plane[p];
            }
        }
    }

    /// <summary>[n][p][c] → [n][c][p]: the same per-image transpose with the roles of channels and pixels swapped.</summary>
    public static void ToNchw<T>(ReadOnlySpan<T> src, Span<T> dst, int batch, int channels, int pixels) =>
        ToNhwc(src, dst, batch, channels: pixels, pixels: channels);
}
