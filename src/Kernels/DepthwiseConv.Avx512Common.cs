using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// One of the AVX-512 3x3 depthwise kernels (<see cref="DepthwiseConv3x3RowPairsAvx512"/>,
/// <see cref="DepthwiseConv3x3F32Avx512"/>) as <see cref="Depthwise3x3Avx512"/> drives it: its prepared layout per 16
/// channels and its loop over one 16-channel block of every output row of the call.
/// </summary>
internal unsafe interface IDepthwise3x3Avx512Kernel
{
    /// <summary>Which prepared layout <see cref="DepthwiseX86Prepared"/> keeps for the kernel.</summary>
    static abstract DepthwiseX86Kernel Kind { get; }

    /// <summary>Bytes of prepared weights, bias and scales per 16-channel block (a multiple of 64).</summary>
    static abstract int BlockBytes { get; }

    /// <summary>Fills the prepared blocks at <paramref name="head"/>; false when the kernel cannot run these weights exactly.</summary>
    static abstract bool Prepare<T>(in DepthwiseArgs<T> a, byte* head) where T : unmanaged;

    /// <summary>Channels <paramref name="c"/> .. c + 15 of every output row of the call, from the block at <paramref name="prepared"/>.</summary>
    static abstract void Block<T>(in Depthwise3x3Rows<T> r, byte* prepared, T* output, int c, in Depthwise3x3Epilogue e) where T : unmanaged;
}

/// <summary>What the AVX-512 3x3 depthwise kernels share around their block loops.</summary>
internal static unsafe class Depthwise3x3Avx512
{
    /// <summary>The shapes both kernels take: 3x3, stride 1 or 2 each way, no dilation, C a multiple of 16 (one ZMM of channels).</summary>
    public static bool Takes(in WindowGeometry g, int channels) =>
        g.KernelHeight == 3 && g.KernelWidth == 3 && g.StrideHeight is 1 or 2 && g.StrideWidth is 1 or 2
        && g.DilationHeight == 1 && g.DilationWidth == 1 && channels % 16 == 0;

    /// <summary>
    /// Runs the call through <typeparamref name="TKernel"/> with the weights prepared by an earlier call of the node (kept
    /// in <see cref="DepthwiseArgs{T}.Packed"/>) or prepared now and kept; false (nothing written) when the kernel refuses them.
    /// </summary>
    public static bool Run<T, TKernel>(in DepthwiseArgs<T> a) where T : unmanaged where TKernel : struct, IDepthwise3x3Avx512Kernel
    {
        int bytes = a.Channels / 16 * TKernel.BlockBytes;
        var ready = DepthwiseX86Prepared.Find(a.Packed, TKernel.Kind, a.Geometry, a.InputZeroPoint, a.Bias, a.Scales, bytes);
        if (ready is not null)
        {
            RunBlocks<T, TKernel>(a, ready.Start);
            return true;
        }
        byte[] rented = ArrayPool<byte>.Shared.Rent(bytes + 64);
        try
        {
            fixed (byte* block = rented)
            {
                byte* head = (byte*)(((nint)block + 63) & ~(nint)63);
                if (!TKernel.Prepare(a, head)) return false;
                DepthwiseX86Prepared.Keep(a.Packed, TKernel.Kind, a.Geometry, a.InputZeroPoint, a.Bias, a.Scales, head, bytes, fits: true);
                RunBlocks<T, TKernel>(a, head);
                return true;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static void RunBlocks<T, TKernel>(in DepthwiseArgs<T> a, byte* head) where T : unmanaged where TKernel : struct, IDepthwise3x3Avx512Kernel
    {
        ref readonly var g = ref a.Geometry;
        int channels = a.Channels, width = g.InputWidth, height = g.InputHeight;
        var (lo, hi) = Requantization.Bounds(a.Output);
        var e = new Depthwise3x3Epilogue(Vector512.Create(lo), Vector512.Create(hi), Vector512.Create(a.Output.ZeroPoint));
        // Window rows above or below the image read a row of zero points, so every output row runs the same loops.
        int firstRow = a.RowStart * g.StrideHeight - g.PadTop, lastRow = (a.RowEnd - 1) * g.StrideHeight - g.PadTop + 2;
        byte[]? zpRow = firstRow < 0 || lastRow >= height ? ArrayPool<byte>.Shared.Rent(width * channels) : null;
        try
        {
            if (zpRow is not null) zpRow.AsSpan(0, width * channels).Fill(typeof(T) == typeof(byte) ? (byte)a.InputZeroPoint : (byte)(sbyte)a.InputZeroPoint);
            fixed (T* input = a.Input)
            fixed (T* output = a.Destination)
            fixed (byte* zp = zpRow)
            {
                var rows = new Depthwise3x3Rows<T>(input, (T*)zp, g, channels, a.RowStart, a.RowEnd, a.InputZeroPoint);
                for (int b = 0; b < channels / 16; b++)
                    TKernel.Block(rows, head + b * TKernel.BlockBytes, output + b * 16, b * 16, e);
            }
        }
        finally
        {
            if (zpRow is not null) ArrayPool<byte>.Shared.Return(zpRow);
        }
    }
}

/// <summary>The geometry one call's blocks share: where the input rows are and which output pixels are interior.</summary>
internal readonly unsafe struct Depthwise3x3Rows<T> where T : unmanaged
{
    public readonly T* Input, ZeroPointRow;
    public readonly nint RowBytes;
    public readonly int Channels, Width, Height, OutWidth, StrideY, StrideX, PadTop, PadLeft, RowStart, RowEnd, InputZeroPoint;
    /// <summary>Output pixels whose three input columns are all inside the row: [InLo, InHi).</summary>
    public readonly int InLo, InHi;
    /// <summary>Pixel 0 misses only the column left of the image (its other two are inside): it can slide in from a zero-point column.</summary>
    public readonly bool LeftPad;
    /// <summary>Pixel <see cref="InHi"/> misses only the column right of the image.</summary>
    public readonly bool RightPad;

    public Depthwise3x3Rows(T* input, T* zeroPointRow, in WindowGeometry g, int channels, int rowStart, int rowEnd, int zeroPoint)
    {
        Input = input;
        ZeroPointRow = zeroPointRow;
        Channels = channels;
        Width = g.InputWidth;
        Height = g.InputHeight;
        OutWidth = g.OutputWidth;
        StrideY = g.StrideHeight;
        StrideX = g.StrideWidth;
        PadTop = g.PadTop;
        PadLeft = g.PadLeft;
        RowStart = rowStart;
        RowEnd = rowEnd;
        InputZeroPoint = zeroPoint;
        RowBytes = (nint)Width * channels;
        InLo = Math.Min((PadLeft + StrideX - 1) / StrideX, OutWidth);
        int hi = Width - 3 + PadLeft >= 0 ? Math.Min((Width - 3 + PadLeft) / StrideX + 1, OutWidth) : 0;
        InHi = Math.Max(hi, InLo);
        LeftPad = PadLeft == 1 && InLo == 1 && Width >= 2 && InHi >= 1;
        RightPad = InHi < OutWidth && InHi * StrideX - PadLeft >= 0 && InHi * StrideX - PadLeft + 2 == Width;
    }

    /// <summary>Input row <paramref name="iy"/> at channel <paramref name="c"/>, or the zero-point row outside the image.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T* Row(int iy, int c) => ((uint)iy < (uint)Height ? Input + iy * RowBytes : ZeroPointRow) + c;
}

/// <summary>The output clamp (as floats, from <see cref="Requantization.Bounds"/>) and zero point.</summary>
internal readonly struct Depthwise3x3Epilogue(Vector512<float> lo, Vector512<float> hi, Vector512<int> zeroPoint)
{
    public readonly Vector512<float> Lo = lo, Hi = hi;
    public readonly Vector512<int> ZeroPoint = zeroPoint;
}
