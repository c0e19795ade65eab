using System.Runtime.InteropServices;

namespace EdgeAgent.Kernels.X64;

/// <summary>
/// What a generated tile that writes C (<see cref="QGemmVnniCode"/>) reads: where its rows go and one panel's
/// constants, laid out at the offsets the machine code uses. The tile always clamps and always adds the zero point;
/// where <see cref="QuantizedTileSinkAvx512{TSigned, TUnclamped}"/> leaves them out (the clamp cannot bind, the zero
/// point is 0) they change nothing: a float above <see cref="Hi"/> would have saturated to the type's maximum in the
/// packs anyway, and the byte maximum is then the type's minimum.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = Size)]
internal unsafe struct VnniRequantization
{
    public const int COffset = 0, LdcOffset = 8, ScaleOffset = 64, HiOffset = 320, ZeroPointOffset = 384,
        MinBytesOffset = 448, OrderOffset = 512, Size = 576;

    /// <summary>Element (0, 0) of the tile in C.</summary>
    [FieldOffset(COffset)] public byte* C;
    /// <summary>Bytes between rows of C.</summary>
    [FieldOffset(LdcOffset)] public nint Ldc;
    /// <summary>The panel's 64 column scales (one value repeated for a per-tensor scale).</summary>
    [FieldOffset(ScaleOffset)] public fixed float Scale[64];
    /// <summary>The upper bound minus the zero point, in float, 16 times.</summary>
    [FieldOffset(HiOffset)] public fixed float Hi[16];
    /// <summary>The output zero point as int16, 32 times.</summary>
    [FieldOffset(ZeroPointOffset)] public fixed short ZeroPoint[32];
    /// <summary>The lower bound as the output byte, 64 times.</summary>
    [FieldOffset(MinBytesOffset)] public fixed byte MinBytes[64];
    /// <summary>The VPERMD order that gathers row j's four dwords into lane j.</summary>
    [FieldOffset(OrderOffset)] public fixed int Order[16];

    /// <summary>The constants of a job (everything but <see cref="C"/> and the scales; for int32 and float output only the row stride).</summary>
    public void Prepare(QGemmJob* job)
    {
        if (job->Kind is QGemmOutputKind.Int32 or QGemmOutputKind.Float32)
        {
            Ldc = job->Ldc * sizeof(int);
            return;
        }
        Ldc = job->Ldc;
        float hi = job->Max - job->OutputZeroPoint;
        for (int i = 0; i < 16; i++) Hi[i] = hi;
        for (int i = 0; i < 32; i++) ZeroPoint[i] = (short)job->OutputZeroPoint;
        for (int i = 0; i < 64; i++) MinBytes[i] = (byte)job->Min;
        ReadOnlySpan<int> order = [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15];
        for (int i = 0; i < 16; i++) Order[i] = order[i];
    }

    /// <summary>The scales of the panel's <paramref name="nc"/> columns from <paramref name="n0"/>.</summary>
    public void SetScales(QGemmJob* job, int n0, int nc)
    {
        if (job->ScaleCount > 1)
            for (int j = 0; j < nc; j++) Scale[j] = job->Scales[n0 + j];
        else
            for (int j = 0; j < nc; j++) Scale[j] = *job->Scales;
    }
}
