using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// Where an x86 16-column register tile goes once its dot products are done, prepared once per panel by the
/// driver: the column terms the accumulators start from, the requantization constants, the destination.
/// With <see cref="IQGemmTileSink"/> the epilogue runs on the registers the microkernel accumulated in, so a
/// tile is never stored and reloaded; that round trip and the per-row calls cost as much as the multiply-adds
/// themselves when K is small (a 1x1 convolution over 16..128 channels).
/// </summary>
internal unsafe struct QGemmTileOutput
{
    /// <summary>Raw sink: where the raw dot products go (row-major, 16 per row).</summary>
    public int* Acc;
    /// <summary>Element (0, 0) of the tile in C (the driver moves it per row tile).</summary>
    public byte* C;
    /// <summary>Bytes between two rows of C.</summary>
    public nint LdcBytes;
    /// <summary><c>bias - zaEff * colsum</c> of columns 0..7 and 8..15: the accumulators' start.</summary>
    public Vector256<int> Start0, Start1;
    public Vector256<float> Scale0, Scale1;
    /// <summary>The upper clamp bound minus the output zero point, in float (an exact integer).</summary>
    public Vector256<float> Hi;
    /// <summary>The output zero point, added with saturation after the int32 -> int16 pack.</summary>
    public Vector256<short> ZeroPoint;
    /// <summary>The lower clamp bound as the output byte (u8, or s8 in two's complement), applied after the packs.</summary>
    public Vector256<byte> MinBytes;
    /// <summary>The same for <see cref="QuantizedTileSinkAvx512{TSigned, TUnclamped}"/>: columns 0..15 in one vector.</summary>
    public Vector512<float> Scale512, Hi512;
    public Vector512<short> ZeroPoint512;
    public Vector512<byte> MinBytes512;
    /// <summary>Whether the output zero point is 0 (every ReLU output), so the sinks may skip adding it.</summary>
    public bool ZeroPointIsZero;

    /// <summary>
    /// Fills the per-panel fields for 16 full columns starting at <paramref name="n0"/>; the column terms are
    /// those of <see cref="QGemmEpilogue.ColumnTerms"/>.
    /// </summary>
    public void Prepare(QGemmJob* job, int* colTerm, int n0)
    {
        Start0 = Vector256.Load(colTerm);
        Start1 = Vector256.Load(colTerm + 8);
        if (job->Kind == QGemmOutputKind.Int32)
        {
            LdcBytes = job->Ldc * sizeof(int);
            return;
        }
        if (job->ScaleCount > 1)
        {
            Scale0 = Vector256.Load(job->Scales + n0);
            Scale1 = Vector256.Load(job->Scales + n0 + 8);
        }
        else
        {
            Scale0 = Scale1 = Vector256.Create(*job->Scales);
        }
        if (job->Kind == QGemmOutputKind.Float32)
        {
            LdcBytes = job->Ldc * sizeof(float);
            return;
        }
        LdcBytes = job->Ldc;
        Hi = Vector256.Create((float)(job->Max - job->OutputZeroPoint));
        ZeroPoint = Vector256.Create((short)job->OutputZeroPoint);
        ZeroPointIsZero = job->OutputZeroPoint == 0;
        MinBytes = Vector256.Create((byte)job->Min);
        Scale512 = Vector512.Create(Scale0, Scale1);
        Hi512 = Vector512.Create(Hi, Hi);
        ZeroPoint512 = Vector512.Create(ZeroPoint, ZeroPoint);
        MinBytes512 = Vector512.Create(MinBytes, MinBytes);
    }

    /// <summary>Byte offset of column <paramref name="n0"/> in a row of C for the job's output kind.</summary>
    public static nint ColumnOffset(QGemmJob* job, int n0) => job->Kind switch
    {
        QGemmOutputKind.Int32 => n0 * sizeof(int),
        QGemmOutputKind.Float32 => n0 * sizeof(float),
        _ => n0,
    };
}

/// <summary>
/// What a 16-column register tile does with its accumulators: where they start (<see cref="Start0"/>,
/// <see cref="Start1"/>) and how rows leave (<see cref="Row"/> for one, <see cref="Rows2"/> for a pair and
/// <see cref="Rows4"/> for four, which lets the byte outputs share their packing shuffles). Static and generic,
/// so the microkernel is specialised per sink and the epilogue is inlined after its loop.
/// </summary>
internal unsafe interface IQGemmTileSink
{
    static abstract Vector256<int> Start0(QGemmTileOutput* o);
    static abstract Vector256<int> Start1(QGemmTileOutput* o);
    static abstract void Row(QGemmTileOutput* o, int r, Vector256<int> c0, Vector256<int> c1);
    static abstract void Rows2(QGemmTileOutput* o, int r, Vector256<int> c0, Vector256<int> c1, Vector256<int> d0, Vector256<int> d1);

    static abstract void Rows4(QGemmTileOutput* o, int r, Vector256<int> c0, Vector256<int> c1, Vector256<int> d0, Vector256<int> d1,
        Vector256<int> e0, Vector256<int> e1, Vector256<int> f0, Vector256<int> f1);
}

/// <summary>How many ints apart a <see cref="RawTileSink{TStride}"/> stores its rows.</summary>
internal interface ITileStride { static abstract int Value { get; } }

/// <summary>Rows of one 16-column tile.</summary>
internal struct TileStride16 : ITileStride { public static int Value => 16; }

/// <summary>
/// Rows of a 32-column tile written as two 16-column halves: the second output's <see cref="QGemmTileOutput.Acc"/> follows
/// the first's, so with rows 32 apart the whole tile is one row-major block.
/// </summary>
internal struct TileStride32 : ITileStride { public static int Value => 32; }

/// <summary>The raw dot products to <see cref="QGemmTileOutput.Acc"/>, rows <typeparamref name="TStride"/> ints apart, for <see cref="QGemmEpilogue.Apply"/>.</summary>
internal unsafe struct RawTileSink<TStride> : IQGemmTileSink where TStride : struct, ITileStride
{
    public static Vector256<int> Start0(QGemmTileOutput* o) => Vector256<int>.Zero;
    public static Vector256<int> Start1(QGemmTileOutput* o) => Vector256<int>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Row(QGemmTileOutput* o, int r, Vector256<int> c0, Vector256<int> c1)
    {
        c0.Store(o->Acc + r * TStride.Value);
        c1.Store(o->Acc + r * TStride.Value + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Rows2(QGemmTileOutput* o, int r, Vector256<int> c0, Vector256<int> c1, Vector256<int> d0, Vector256<int> d1)
    {
        Row(o, r, c0, c1);
        Row(o, r + 1, d0, d1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Rows4(QGemmTileOutput* o, int r, Vector256<int> c0, Vector256<int> c1, Vector256<int> d0, Vector256<int> d1,
        Vector256<int> e0, Vector256<int> e1, Vector256<int> f0, Vector256<int> f1)
    {
        Rows2(o, r, c0, c1, d0, d1);
        Rows2(o, r + 2, e0, e1, f0, f1);
    }
}

/// <summary>MatMulInteger: the accumulators (already holding bias and zero-point terms) straight to int32 C.</summary>
internal unsafe struct Int32TileSink : IQGemmTileSink
{
    public static Vector256<int> Start0(QGemmTileOutput* o) => o->Start0;
    public static Vector256<int> Start1(QGemmTileOutput* o) => o->Start1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Row(QGemmTileOutput* o, int r, Vector256<int> c0, Vector256<int> c1)
    {
        int* c = (int*)(o->C + r * o->LdcBytes);
        c0.Store(c);
        c1.Store(c + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Rows2(QGemmTileOutput* o, int r, Vector256<int> c0, Vector256<int> c1, Vector256<int> d0, Vector256<int> d1)
    {
        Row(o, r, c0, c1);
        Row(o, r + 1, d0, d1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Rows4(QGemmTileOutput* o, int r, Vector256<int> c0, Vector256<int> c1, Vector256<int> d0, Vector256<int> d1,
        Vector256<int> e0, Vector256<int> e1, Vector256<int> f0, Vector256<int> f1)
    {
        Rows2(o, r, c0, c1, d0, d1);
        Rows2(o, r + 2, e0, e1, f0, f1);
    }
}

/// <summary>Dequantized float output: <c>(float)acc * scale[n]</c>, as <see cref="Requantization.Dequantize"/>.</summary>
internal unsafe struct Float32TileSink : IQGemmTileSink
{
    public static Vector256<int> Start0(QGemmTileOutput* o) => o->Start0;
    public static Vector256<int> Start1(QGemmTileOutput* o) => o->Start1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Row(QGemmTileOutput* o, int r, Vector256<int> c0, Vector256<int> c1)
    {
        float* c = (float*)(o->C + r * o->LdcBytes);
        Avx.Multiply(Avx.ConvertToVector256Single(c0), o->Scale0).Store(c);
        Avx.Multiply(Avx.ConvertToVector256Single(c1), o->Scale1).Store(c + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Rows2(QGemmTileOutput* o, int r, Vector256<int> c0, Vector256<int> c1, Vector256<int> d0, Vector256<int> d1)
    {
        Row(o, r, c0, c1);
        Row(o, r + 1, d0, d1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Rows4(QGemmTileOutput* o, int r, Vector256<int> c0, Vector256<int> c1, Vector256<int> d0, Vector256<int> d1,
        Vector256<int> e0, Vector256<int> e1, Vector256<int> f0, Vector256<int> f1)
    {
        Rows2(o, r, c0, c1, d0, d1);
        Rows2(o, r + 2, e0, e1, f0, f1);
    }
}

/// <summary>
/// QLinearMatMul/QLinearConv to u8 (<typeparamref name="TSigned"/> = <see cref="No"/>) or s8: the shared
/// requantization on the registers (VCVTDQ2PS, VMULPS, VMINPS to the upper bound minus zp, VCVTPS2DQ), then
/// VPACKSSDW, the zero point added in int16 with saturation (VPADDSW), VPACKUSWB/VPACKSSWB of two rows at once,
/// the lower bound as a byte maximum and one VPERMD that puts both rows' 16 bytes in order: one 16-byte store each.
/// The lower bound moves out of the float domain because every step after the float minimum is monotonic and
/// saturating (a value below int32 converts to int32.MinValue, below int16 packs to -32768, and adding the zero
/// point saturates instead of wrapping), so clamping the bytes gives the bits of <see cref="Requantization"/>.
/// The upper bound must stay in float: a value above int32 would convert to int32.MinValue.
/// </summary>
/// <remarks>With <typeparamref name="TUnclamped"/> = <see cref="Yes"/> (the call's
/// <see cref="QGemmJob.ClampCannotBind"/>) the float minimum and the byte maximum are left out.</remarks>
internal unsafe struct QuantizedTileSink<TSigned, TUnclamped> : IQGemmTileSink where TSigned : struct, IFlag where TUnclamped : struct, IFlag
{
    public static Vector256<int> Start0(QGemmTileOutput* o) => o->Start0;
    public static Vector256<int> Start1(QGemmTileOutput* o) => o->Start1;

    /// <summary>Columns 0..7 and 8..15 requantized (before the zero point) and packed to int16 within lanes:
    /// lane 0 = columns 0-3, 8-11; lane 1 = columns 4-7, 12-15.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Words(QGemmTileOutput* o, Vector256<int> c0, Vector256<int> c1)
    {
        var f0 = Avx.Multiply(Avx.ConvertToVector256Single(c0), o->Scale0);
        var f1 = Avx.Multiply(Avx.ConvertToVector256Single(c1), o->Scale1);
        if (!TUnclamped.Value)
        {
            f0 = Avx.Min(f0, o->Hi);
            f1 = Avx.Min(f1, o->Hi);
        }
        var w = Avx2.PackSignedSaturate(Avx.ConvertToVector256Int32(f0), Avx.ConvertToVector256Int32(f1));
        return Avx2.AddSaturate(w, o->ZeroPoint);
    }

    /// <summary>The bytes of rows w (lower half) and v (upper half), each in column order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Bytes(QGemmTileOutput* o, Vector256<short> w, Vector256<short> v)
    {
        Vector256<byte> b = (TSigned.Value, TUnclamped.Value) switch
        {
            (true, true) => Avx2.PackSignedSaturate(w, v).AsByte(),
            (true, false) => Avx2.Max(Avx2.PackSignedSaturate(w, v), o->MinBytes.AsSByte()).AsByte(),
            (false, true) => Avx2.PackUnsignedSaturate(w, v),
            (false, false) => Avx2.Max(Avx2.PackUnsignedSaturate(w, v), o->MinBytes),
        };
        // After the in-lane packs, dword i of the result holds columns: 0-3 (w), 8-11 (w), 0-3 (v), 8-11 (v) |
        // 4-7 (w), 12-15 (w), 4-7 (v), 12-15 (v).
        return Avx2.PermuteVar8x32(b.AsInt32(), Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7)).AsByte();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Row(QGemmTileOutput* o, int r, Vector256<int> c0, Vector256<int> c1)
    {
        var w = Words(o, c0, c1);
        Bytes(o, w, w).GetLower().Store(o->C + r * o->LdcBytes);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Rows2(QGemmTileOutput* o, int r, Vector256<int> c0, Vector256<int> c1, Vector256<int> d0, Vector256<int> d1)
    {
        var b = Bytes(o, Words(o, c0, c1), Words(o, d0, d1));
        byte* c = o->C + r * o->LdcBytes;
        b.GetLower().Store(c);
        b.GetUpper().Store(c + o->LdcBytes);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Rows4(QGemmTileOutput* o, int r, Vector256<int> c0, Vector256<int> c1, Vector256<int> d0, Vector256<int> d1,
        Vector256<int> e0, Vector256<int> e1, Vector256<int> f0, Vector256<int> f1)
    {
        Rows2(o, r, c0, c1, d0, d1);
        Rows2(o, r + 2, e0, e1, f0, f1);
    }
}
