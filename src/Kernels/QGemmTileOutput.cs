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
    /// <summary>Clamp bounds minus the output zero point, in float (exact integers).</summary>
    public Vector256<float> Lo, Hi;
    /// <summary>The output zero point, added after the int32 -> int16 pack (no overflow: |q - zp| &lt;= 255).</summary>
    public Vector256<short> ZeroPoint;

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
        Lo = Vector256.Create((float)(job->Min - job->OutputZeroPoint));
        Hi = Vector256.Create((float)(job->Max - job->OutputZeroPoint));
        ZeroPoint = Vector256.Create((short)job->OutputZeroPoint);
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
/// <see cref="Start1"/>) and how rows leave (<see cref="Row"/> for one, <see cref="Rows2"/> for a pair, which
/// lets the byte outputs share their packing shuffles). Static and generic, so the microkernel is specialised
/// per sink and the epilogue is inlined after its loop.
/// </summary>
internal unsafe interface IQGemmTileSink
{
    static abstract Vector256<int> Start0(QGemmTileOutput* o);
    static abstract Vector256<int> Start1(QGemmTileOutput* o);
    static abstract void Row(QGemmTileOutput* o, int r, Vector256<int> c0, Vector256<int> c1);
    static abstract void Rows2(QGemmTileOutput* o, int r, Vector256<int> c0, Vector256<int> c1, Vector256<int> d0, Vector256<int> d1);
}

/// <summary>The raw dot products to <see cref="QGemmTileOutput.Acc"/>, for <see cref="QGemmEpilogue.Apply"/>.</summary>
internal unsafe struct RawTileSink : IQGemmTileSink
{
    public static Vector256<int> Start0(QGemmTileOutput* o) => Vector256<int>.Zero;
    public static Vector256<int> Start1(QGemmTileOutput* o) => Vector256<int>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Row(QGemmTileOutput* o, int r, Vector256<int> c0, Vector256<int> c1)
    {
        c0.Store(o->Acc + r * 16);
        c1.Store(o->Acc + r * 16 + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Rows2(QGemmTileOutput* o, int r, Vector256<int> c0, Vector256<int> c1, Vector256<int> d0, Vector256<int> d1)
    {
        Row(o, r, c0, c1);
        Row(o, r + 1, d0, d1);
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
}

/// <summary>
/// QLinearMatMul/QLinearConv to u8 (<typeparamref name="TSigned"/> = <see cref="No"/>) or s8: the shared
/// requantization (VCVTDQ2PS, VMULPS, VMAXPS/VMINPS to the bounds minus zp, VCVTPS2DQ) on the registers, then
/// VPACKSSDW, the zero point added in int16, VPACKUSWB/VPACKSSWB of two rows at once and one VPERMD that puts
/// both rows' 16 bytes in order: one 16-byte store each.
/// </summary>
internal unsafe struct QuantizedTileSink<TSigned> : IQGemmTileSink where TSigned : struct, IFlag
{
    public static Vector256<int> Start0(QGemmTileOutput* o) => o->Start0;
    public static Vector256<int> Start1(QGemmTileOutput* o) => o->Start1;

    /// <summary>Columns 0..7 and 8..15 requantized (before the zero point) and packed to int16 within lanes:
    /// lane 0 = columns 0-3, 8-11; lane 1 = columns 4-7, 12-15.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Words(QGemmTileOutput* o, Vector256<int> c0, Vector256<int> c1)
    {
        var lo = o->Lo;
        var hi = o->Hi;
        var f0 = Avx.Min(Avx.Max(Avx.Multiply(Avx.ConvertToVector256Single(c0), o->Scale0), lo), hi);
        var f1 = Avx.Min(Avx.Max(Avx.Multiply(Avx.ConvertToVector256Single(c1), o->Scale1), lo), hi);
        var w = Avx2.PackSignedSaturate(Avx.ConvertToVector256Int32(f0), Avx.ConvertToVector256Int32(f1));
        return Avx2.Add(w, o->ZeroPoint);
    }

    /// <summary>The bytes of rows w (lower half) and v (upper half), each in column order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Bytes(Vector256<short> w, Vector256<short> v)
    {
        Vector256<byte> b = TSigned.Value ? Avx2.PackSignedSaturate(w, v).AsByte() : Avx2.PackUnsignedSaturate(w, v);
        // After the in-lane packs, dword i of the result holds columns: 0-3 (w), 8-11 (w), 0-3 (v), 8-11 (v) |
        // 4-7 (w), 12-15 (w), 4-7 (v), 12-15 (v).
        return Avx2.PermuteVar8x32(b.AsInt32(), Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7)).AsByte();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Row(QGemmTileOutput* o, int r, Vector256<int> c0, Vector256<int> c1)
    {
        var w = Words(o, c0, c1);
        Bytes(w, w).GetLower().Store(o->C + r * o->LdcBytes);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Rows2(QGemmTileOutput* o, int r, Vector256<int> c0, Vector256<int> c1, Vector256<int> d0, Vector256<int> d1)
    {
        var b = Bytes(Words(o, c0, c1), Words(o, d0, d1));
        byte* c = o->C + r * o->LdcBytes;
        b.GetLower().Store(c);
        b.GetUpper().Store(c + o->LdcBytes);
    }
}
