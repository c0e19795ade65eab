namespace EdgeAgent.Kernels;

/// <summary>QLinearAdd/QLinearMul rows in portable C#: one <see cref="QLinearBinaryConstants.Apply"/> per element.</summary>
internal static unsafe class QLinearBinaryScalar
{
    public static void Row<T>(in QLinearBinaryConstants k, T* a, T* b, T* c, int length, int aStride, int bStride) where T : unmanaged
    {
        for (int i = 0; i < length; i++)
            Int8.Store(c + i, k.Apply(Int8.Load(a + i * aStride), Int8.Load(b + i * bStride)));
    }
}
