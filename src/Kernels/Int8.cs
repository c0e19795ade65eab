using System.Runtime.CompilerServices;

namespace EdgeAgent.Kernels;

/// <summary>
/// Reads and writes a u8 or s8 element as int in generic scalar code. The branch on <typeparamref name="T"/>
/// is resolved when the generic method is compiled for byte or sbyte, so it costs nothing at run time.
/// </summary>
internal static class Int8
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Load<T>(ReadOnlySpan<T> span, int index) where T : unmanaged =>
        typeof(T) == typeof(byte) ? Unsafe.As<T, byte>(ref Unsafe.AsRef(in span[index])) : Unsafe.As<T, sbyte>(ref Unsafe.AsRef(in span[index]));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<T>(Span<T> span, int index, int value) where T : unmanaged
    {
        if (typeof(T) == typeof(byte)) Unsafe.As<T, byte>(ref span[index]) = (byte)value;
        else Unsafe.As<T, sbyte>(ref span[index]) = (sbyte)value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe int Load<T>(T* p) where T : unmanaged =>
        typeof(T) == typeof(byte) ? *(byte*)p : *(sbyte*)p;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Store<T>(T* p, int value) where T : unmanaged
    {
        if (typeof(T) == typeof(byte)) *(byte*)p = (byte)value;
        else *(sbyte*)p = (sbyte)value;
    }

    public static bool IsSigned<T>() where T : unmanaged => typeof(T) == typeof(sbyte);

    /// <summary>The representable range of <typeparamref name="T"/>.</summary>
    public static (int Min, int Max) Range<T>() where T : unmanaged =>
        typeof(T) == typeof(byte) ? (0, 255) : (-128, 127);
}
