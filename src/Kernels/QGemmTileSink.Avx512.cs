using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// <see cref="QuantizedTileSink{TSigned, TUnclamped}"/> with 512-bit registers, for AVX-VNNI tiles on a CPU that also has
/// AVX-512BW (Zen 4/5, Sapphire Rapids): the two 8-column accumulators of a row are joined into one vector
/// (VINSERTI64X4), so the requantization is VCVTDQ2PS, VMULPS, VMINPS, VCVTPS2DQ once per row instead of twice,
/// and four rows share one VPACKSSDW pair, one VPACKUSWB/VPACKSSWB, one byte maximum and one VPERMD that leaves
/// row j's 16 bytes in 128-bit lane j. About 8 instructions per row against 14 for the 256-bit sink: with
/// K = 64 (a pointwise convolution over 64 channels) the epilogue is a third of a 6x16 tile's work.
/// The same operations per element as <see cref="QuantizedTileSink{TSigned, TUnclamped}"/>, so the same bits.
/// </summary>
/// <remarks>With <typeparamref name="TUnclamped"/> = <see cref="Yes"/> (the call's
/// <see cref="QGemmJob.ClampCannotBind"/>) neither the float minimum nor the byte maximum is emitted: the saturating
/// packs alone give the element type's range, which is then the whole clamp.</remarks>
internal unsafe struct QuantizedTileSinkAvx512<TSigned, TUnclamped> : IQGemmTileSink where TSigned : struct, IFlag where TUnclamped : struct, IFlag
{
    public static bool IsSupported => Avx512BW.IsSupported;

    public static Vector256<int> Start0(QGemmTileOutput* o) => o->Start0;
    public static Vector256<int> Start1(QGemmTileOutput* o) => o->Start1;

    /// <summary>One row's 16 columns requantized to int32 (before the zero point), clamped above in float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Requantize(QGemmTileOutput* o, Vector256<int> c0, Vector256<int> c1)
    {
        // ToVector512Unsafe + one VINSERTI64X4: Vector512.Create(c0, c1) zeroes a register and inserts twice.
        var c = Avx512F.InsertVector256(c0.ToVector512Unsafe(), c1, 1);
        var f = Avx512F.Multiply(Avx512F.ConvertToVector512Single(c), o->Scale512);
        return Avx512F.ConvertToVector512Int32(TUnclamped.Value ? f : Avx512F.Min(f, o->Hi512));
    }

    /// <summary>
    /// Rows w, x (packed to int16 in <paramref name="wx"/>) and y, z (in <paramref name="yz"/>) to bytes. Within
    /// 128-bit lane l the packs leave dword j = row j's columns 4l..4l+3; the VPERMD gathers row j into lane j.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Bytes(QGemmTileOutput* o, Vector512<short> wx, Vector512<short> yz)
    {
        if (!o->ZeroPointIsZero)
        {
            var zp = o->ZeroPoint512;
            wx = Avx512BW.AddSaturate(wx, zp);
            yz = Avx512BW.AddSaturate(yz, zp);
        }
        Vector512<byte> b = (TSigned.Value, TUnclamped.Value) switch
        {
            (true, true) => Avx512BW.PackSignedSaturate(wx, yz).AsByte(),
            (true, false) => Avx512BW.Max(Avx512BW.PackSignedSaturate(wx, yz), o->MinBytes512.AsSByte()).AsByte(),
            (false, true) => Avx512BW.PackUnsignedSaturate(wx, yz),
            (false, false) => Avx512BW.Max(Avx512BW.PackUnsignedSaturate(wx, yz), o->MinBytes512),
        };
        var order = Vector512.Create(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
        return Avx512F.PermuteVar16x32(b.AsInt32(), order).AsByte();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Row(QGemmTileOutput* o, int r, Vector256<int> c0, Vector256<int> c1)
    {
        var w = Requantize(o, c0, c1);
        var p = Avx512BW.PackSignedSaturate(w, w);
        Bytes(o, p, p).GetLower().GetLower().Store(o->C + r * o->LdcBytes);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Rows2(QGemmTileOutput* o, int r, Vector256<int> c0, Vector256<int> c1, Vector256<int> d0, Vector256<int> d1)
    {
        var p = Avx512BW.PackSignedSaturate(Requantize(o, c0, c1), Requantize(o, d0, d1));
        var b = Bytes(o, p, p);
        nint ldc = o->LdcBytes;
        byte* c = o->C + r * ldc;
        b.GetLower().GetLower().Store(c);
        Avx512F.ExtractVector128(b, 1).Store(c + ldc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Rows4(QGemmTileOutput* o, int r, Vector256<int> c0, Vector256<int> c1, Vector256<int> d0, Vector256<int> d1,
        Vector256<int> e0, Vector256<int> e1, Vector256<int> f0, Vector256<int> f1)
    {
        var wx = Avx512BW.PackSignedSaturate(Requantize(o, c0, c1), Requantize(o, d0, d1));
        var yz = Avx512BW.PackSignedSaturate(Requantize(o, e0, e1), Requantize(o, f0, f1));
        var b = Bytes(o, wx, yz);
        nint ldc = o->LdcBytes;
        byte* c = o->C + r * ldc;
        b.GetLower().GetLower().Store(c);
        Avx512F.ExtractVector128(b, 1).Store(c + ldc);
        Avx512F.ExtractVector128(b, 2).Store(c + 2 * ldc);
        Avx512F.ExtractVector128(b, 3).Store(c + 3 * ldc);
    }
}

/// <summary>A GEMM block that runs with any register sink: what <see cref="TileSinksAvx512"/> dispatches to.</summary>
internal unsafe interface ISinkedBlock
{
    static abstract void Block<TSink>(QGemmJob* job, int m0, int m1, int p0, int p1) where TSink : struct, IQGemmTileSink;
}

/// <summary>
/// Picks the 512-bit register sink for a job's output kind (u8/s8 with or without a clamp that can bind, int32, float)
/// and runs <typeparamref name="TBlock"/> with it; asymmetric weights get <typeparamref name="TRaw"/>, the raw tiles
/// the general epilogue finishes. Shared by the AVX-512BW and AVX-512 VNNI GEMMs.
/// </summary>
internal static unsafe class TileSinksAvx512
{
    public static void Block<TBlock, TRaw>(QGemmJob* job, int m0, int m1, int p0, int p1)
        where TBlock : struct, ISinkedBlock where TRaw : struct, IQGemmTileSink
    {
        if (job->WeightZeroPoints is not null)
        {
            TBlock.Block<TRaw>(job, m0, m1, p0, p1);
            return;
        }
        switch (job->Kind)
        {
            case QGemmOutputKind.UInt8:
                if (job->ClampCannotBind) TBlock.Block<QuantizedTileSinkAvx512<No, Yes>>(job, m0, m1, p0, p1);
                else TBlock.Block<QuantizedTileSinkAvx512<No, No>>(job, m0, m1, p0, p1);
                break;
            case QGemmOutputKind.Int8:
                if (job->ClampCannotBind) TBlock.Block<QuantizedTileSinkAvx512<Yes, Yes>>(job, m0, m1, p0, p1);
                else TBlock.Block<QuantizedTileSinkAvx512<Yes, No>>(job, m0, m1, p0, p1);
                break;
            case QGemmOutputKind.Int32: TBlock.Block<Int32TileSink>(job, m0, m1, p0, p1); break;
            default: TBlock.Block<Float32TileSink>(job, m0, m1, p0, p1); break;
        }
    }
}
