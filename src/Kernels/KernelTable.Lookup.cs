using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

public sealed partial class KernelTable
{
    /// <summary>
    /// Applies an int8 activation table to u8 data: <c>y[i] = table[x[i]]</c>. <paramref name="y"/> may be
    /// <paramref name="x"/>. Split over threads by slicing both spans.
    /// </summary>
    public void Lookup(Int8LookupTable table, ReadOnlySpan<byte> x, Span<byte> y)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (table.Kind != Int8Kind.U8) throw new ArgumentException("lookup: the table was built for s8 data, the tensor is u8");
        RunLookup(table, x, y);
    }

    /// <summary>Applies an int8 activation table to s8 data; otherwise as the u8 overload.</summary>
    public void Lookup(Int8LookupTable table, ReadOnlySpan<sbyte> x, Span<sbyte> y)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (table.Kind != Int8Kind.S8) throw new ArgumentException("lookup: the table was built for u8 data, the tensor is s8");
        RunLookup(table, MemoryMarshal.Cast<sbyte, byte>(x), MemoryMarshal.Cast<sbyte, byte>(y));
    }

    private unsafe void RunLookup(Int8LookupTable table, ReadOnlySpan<byte> x, Span<byte> y)
    {
        KernelArguments.CheckLength("lookup", "output", y.Length, x.Length);
        fixed (byte* t = table.Entries)
        fixed (byte* px = x)
        fixed (byte* py = y)
        {
            switch (_elementwisePath)
            {
                case SimdPath.Neon when System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported: LookupNeon.Run(t, px, py, x.Length); break;
                case SimdPath.Avx512 when Avx512Vbmi.IsSupported: LookupAvx2.RunVbmi(t, px, py, x.Length); break;
                case SimdPath.Avx2 when System.Runtime.Intrinsics.X86.X86Base.IsSupported:
                case SimdPath.Avx512 when System.Runtime.Intrinsics.X86.X86Base.IsSupported: LookupAvx2.Run(t, px, py, x.Length); break;
                default: LookupScalar.Run(t, px, py, x.Length); break;
            }
        }
    }
}
