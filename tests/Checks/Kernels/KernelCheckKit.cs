using EdgeAgent.Kernels;

namespace EdgeAgent.Checks.Kernels;

/// <summary>What the kernel check templates share: seeded data, the paths under test, span comparison.</summary>
internal static class KernelCheckKit
{
    /// <summary>The reference table and every other table this CPU can run.</summary>
    public static KernelTable Reference => KernelTable.For(Isa.Scalar);

    /// <summary>Every table the CPU supports except scalar (the paths compared against the reference).</summary>
    public static IEnumerable<KernelTable> VectorTables => KernelTable.AllSupported().Where(t => t.Isa != Isa.Scalar);

    /// <summary>Every table, scalar included (for checks of behaviour every path must have).</summary>
    public static IEnumerable<KernelTable> AllTables => KernelTable.AllSupported();

    public static Random Rng(int seed) => new(seed);

    public static byte[] Bytes(Random rng, int n, int lo = 0, int hi = 255)
    {
        var a = new byte[n];
        for (int i = 0; i < n; i++) a[i] = (byte)rng.Next(lo, hi + 1);
        return a;
    }

    public static sbyte[] SBytes(Random rng, int n, int lo = -128, int hi = 127)
    {
        var a = new sbyte[n];
        for (int i = 0; i < n; i++) a[i] = (sbyte)rng.Next(lo, hi + 1);
        return a;
    }

    public static int[] Ints(Random rng, int n, int lo, int hi)
    {
        var a = new int[n];
        for (int i = 0; i < n; i++) a[i] = rng.Next(lo, hi + 1);
        return a;
    }

    public static float[] Floats(Random rng, int n, float lo = -1f, float hi = 1f)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = lo + (float)rng.NextDouble() * (hi - lo);
        return a;
    }

    /// <summary>Bit-for-bit float comparison (NaN payloads and signed zeros included).</summary>
    public static void BitEqual(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        if (expected.Length != actual.Length) throw new CheckFailedException($"{what}: length {actual.Length}, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                throw new CheckFailedException($"{what}: first difference at [{i}]: expected {expected[i]:R}, got {actual[i]:R}");
        }
    }

    /// <summary>Element-wise |expected - actual| &lt;= tolerance.</summary>
    public static void Near(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tolerance, string what)
    {
        if (expected.Length != actual.Length) throw new CheckFailedException($"{what}: length {actual.Length}, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            if (!(MathF.Abs(expected[i] - actual[i]) <= tolerance))
                throw new CheckFailedException($"{what}: at [{i}] expected {expected[i]:R} +- {tolerance}, got {actual[i]:R}");
        }
    }

    /// <summary>Round half to even and clamp, computed in double: the "obviously correct" quantizer of the checks.</summary>
    public static int QuantizeReal(double real, double scale, int zeroPoint, int min, int max) =>
        (int)Math.Clamp(Math.Round(real / scale, MidpointRounding.ToEven) + zeroPoint, min, max);
}
