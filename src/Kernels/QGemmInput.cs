using System.Runtime.InteropServices;

namespace EdgeAgent.Kernels;

/// <summary>
/// The activation matrix A of a quantized GEMM: <see cref="Rows"/> rows of K bytes, row-major with
/// stride <see cref="Stride"/> bytes, u8 or s8, with one zero point for the whole tensor.
/// K comes from the packed weights.
/// </summary>
public readonly ref struct QGemmInput
{
    /// <summary>The bytes of A (u8 or s8 as <see cref="IsSigned"/> says).</summary>
    public ReadOnlySpan<byte> Data { get; }

    /// <summary>M, the number of rows.</summary>
    public int Rows { get; }

    /// <summary>Distance in bytes between the starts of two rows (at least K).</summary>
    public int Stride { get; }

    /// <summary>True when the elements are s8, false when they are u8.</summary>
    public bool IsSigned { get; }

    /// <summary>The activation zero point (0..255 for u8, -128..127 for s8).</summary>
    public int ZeroPoint { get; }

    private QGemmInput(ReadOnlySpan<byte> data, int rows, int stride, bool isSigned, int zeroPoint)
    {
        Data = data;
        Rows = rows;
        Stride = stride;
        IsSigned = isSigned;
        ZeroPoint = zeroPoint;
    }

    /// <summary>Other bytes with the same element type and zero point (a group's channels, an im2col buffer).</summary>
    internal QGemmInput With(ReadOnlySpan<byte> data, int rows, int stride) => new(data, rows, stride, IsSigned, ZeroPoint);

    /// <summary>u8 activations with zero point 0..255.</summary>
    public static QGemmInput UInt8(ReadOnlySpan<byte> data, int rows, int stride, int zeroPoint)
    {
        if ((uint)zeroPoint > 255) ThrowHelper.Argument(nameof(zeroPoint), $"u8 activation zero point {zeroPoint} is outside 0..255");
        return new(data, rows, stride, false, zeroPoint);
    }

    /// <summary>s8 activations with zero point -128..127.</summary>
    public static QGemmInput Int8(ReadOnlySpan<sbyte> data, int rows, int stride, int zeroPoint)
    {
        if (zeroPoint is < -128 or > 127) ThrowHelper.Argument(nameof(zeroPoint), $"s8 activation zero point {zeroPoint} is outside -128..127");
        return new(MemoryMarshal.AsBytes(data), rows, stride, true, zeroPoint);
    }
}
