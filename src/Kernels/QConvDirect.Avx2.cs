using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// AVX2 direct convolution: per output pixel, each kernel row's taps are one 16-byte load widened to int16 minus
/// the input zero point (a scalar gather only at the borders), then every tap pair is broadcast and VPMADDWD'd
/// against the packed weights of up to 32 output channels held in four accumulators.
/// </summary>
internal static unsafe class QConvDirectAvx2
{
    [SkipLocalsInit]
    public static void Run<T>(in QConvDirectArgs<T> a) where T : unmanaged
    {
        var conv = a.Conv;
        var s = conv.Shape;
        int cin = s.InChannels, cout = s.OutChannels, kh = s.KernelHeight, kw = s.KernelWidth, rowTaps = kw * cin;
        int pairs = conv.RowPairs, r2 = 2 * pairs, blocks = conv.ChannelBlocks, padded = blocks * 8, zp = a.InputZeroPoint;
        short* taps = stackalloc short[kh * r2 + 16]; // +16: a row's 16-lane store may run past the last row
        float* scales = stackalloc float[padded];
        int* bias = stackalloc int[padded];
        a.FillChannelConstants(scales, bias, 0);
        var (lo, hi) = Requantization.Bounds(a.Output);
        var vlo = Vector256.Create(lo);
        var vhi = Vector256.Create(hi);
        var vzpOut = Vector256.Create(a.Output.ZeroPoint);
        var vzpIn = Vector256.Create((short)zp);
        bool signed = typeof(T) == typeof(sbyte);
        long inputLength = a.Input.Length;
        byte* outTail = stackalloc byte[8];
        fixed (T* input = a.Input)
        fixed (T* destination = a.Destination)
        fixed (short* weights = conv.PackedPairs)
        {
            for (int row = a.RowStart; row < a.RowEnd; row++)
            {
                int n = row / s.OutHeight, oy = row % s.OutHeight;
                T* image = input + (long)n * s.Height * s.Width * cin;
                for (int ox = 0; ox < s.OutWidth; ox++)
                {
                    int ix0 = ox * s.StrideWidth - s.PadLeft;
                    for (int ky = 0; ky < kh; ky++)
                    {
                        short* dst = taps + ky * r2;
                        int iy = oy * s.StrideHeight - s.PadTop + ky * s.DilationHeight;
                        if ((uint)iy >= (uint)s.Height)
                        {
                            Avx.Store(dst, Vector256<short>.Zero);
                            continue;
                        }
                        long offset = ((long)iy * s.Width + ix0) * cin;
                        if (s.DilationWidth == 1 && ix0 >= 0 && ix0 + kw <= s.Width && (image - input) + offset + 16 <= inputLength)
                        {
                            // Lanes past the row's taps hold neighbours; their packed weights are zero.
                            Avx.Store(dst, Avx2.Subtract(RequantizationAvx2.Load16Widen(image + offset), vzpIn));
                            continue;
                        }
                        for (int kx = 0; kx < kw; kx++)
                        {
                            int ix = ix0 + kx * s.DilationWidth;
                            bool inside = (uint)ix < (uint)s.Width;
                            T* px = image + ((long)iy * s.Width + ix) * cin;
                            for (int c = 0; c < cin; c++) dst[kx * cin + c] = (short)(inside ? Int8.Load(px + c) - zp : 0);
                        }
                        for (int t = rowTaps; t < r2; t++) dst[t] = 0;
                    }
                    T* pixelOut = destination + ((long)row * s.OutWidth + ox) * cout;
                    for (int b0 = 0; b0 < blocks; b0 += 4)
                    {
                        int nb = Math.Min(4, blocks - b0);
                        var acc0 = Avx.LoadVector256(bias + b0 * 8);
                        var acc1 = nb > 1 ? Avx.LoadVector256(bias + b0 * 8 + 8) : Vector256<int>.Zero;
                        var acc2 = nb > 2 ? Avx.LoadVector256(bias + b0 * 8 + 16) : Vector256<int>.Zero;
                        var acc3 = nb > 3 ? Avx.LoadVector256(bias + b0 * 8 + 24) : Vector256<int>.Zero;
                        for (int ky = 0; ky < kh; ky++)
                        {
                            int* pairTaps = (int*)(taps + ky * r2);
                            short* w = weights + ((long)ky * pairs * blocks + b0) * 16;
                            for (int p = 0; p < pairs; p++, w += blocks * 16)
                            {
                                var x = Vector256.Create(pairTaps[p]).AsInt16();
                                acc0 = Avx2.Add(acc0, Avx2.MultiplyAddAdjacent(x, Avx.LoadVector256(w)));
                                if (nb > 1) acc1 = Avx2.Add(acc1, Avx2.MultiplyAddAdjacent(x, Avx.LoadVector256(w + 16)));
                                if (nb > 2) acc2 = Avx2.Add(acc2, Avx2.MultiplyAddAdjacent(x, Avx.LoadVector256(w + 32)));
                                if (nb > 3) acc3 = Avx2.Add(acc3, Avx2.MultiplyAddAdjacent(x, Avx.LoadVector256(w + 48)));
                            }
                        }
                        Store(acc0, b0, scales, vlo, vhi, vzpOut, pixelOut, cout, signed, outTail);
                        if (nb > 1) Store(acc1, b0 + 1, scales, vlo, vhi, vzpOut, pixelOut, cout, signed, outTail);
                        if (nb > 2) Store(acc2, b0 + 2, scales, vlo, vhi, vzpOut, pixelOut, cout, signed, outTail);
                        if (nb > 3) Store(acc3, b0 + 3, scales, vlo, vhi, vzpOut, pixelOut, cout, signed, outTail);
                    }
                }
            }
        }
    }

    /// <summary>Requantizes 8 channels of one pixel and stores those below <paramref name="cout"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Store<T>(Vector256<int> acc, int block, float* scales, Vector256<float> lo, Vector256<float> hi, Vector256<int> zp,
        T* pixelOut, int cout, bool signed, byte* tail) where T : unmanaged
    {
        var q = RequantizationAvx2.Requantize(acc, Avx.LoadVector256(scales + block * 8), lo, hi, zp);
        int first = block * 8, count = Math.Min(8, cout - first);
        if (count == 8)
        {
            RequantizationAvx2.Store8((byte*)(pixelOut + first), q, signed);
            return;
        }
        RequantizationAvx2.Store8(tail, q, signed);
        for (int j = 0; j < count; j++) ((byte*)(pixelOut + first))[j] = tail[j];
    }
}
