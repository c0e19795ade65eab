namespace EdgeAgent.Kernels;

/// <summary>Table lookup in portable C#: <c>y[i] = table[x[i]]</c>.</summary>
internal static unsafe class LookupScalar
{
    public static void Run(byte* table, byte* x, byte* y, nint n)
    {
        nint i = 0;
        for (; i + 4 <= n; i += 4)
        {
            byte a = table[x[i]], b = table[x[i + 1]], c = table[x[i + 2]], d = table[x[i + 3]];
            y[i] = a;
            y[i + 1] = b;
            y[i + 2] = c;
            y[i + 3] = d;
        }
        for (; i < n; i++) y[i] = table[x[i]];
    }
}
