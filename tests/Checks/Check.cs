namespace EdgeAgent.Checks;

/// <summary>
/// One test case that runs the same way under xunit on x64 and in the NativeAOT harness under qemu.
/// Suite groups cases by the project they test (kernels, runtime, ...).
/// </summary>
public sealed record Check(string Suite, string Name, Action Body)
{
    public override string ToString() => $"{Suite}/{Name}";
}

/// <summary>A check's failed expectation; carries the message shown by both runners.</summary>
public sealed class CheckFailedException(string message) : Exception(message);

/// <summary>Assertions usable without a test framework (the AOT harness has none).</summary>
public static class Expect
{
    public static void True(bool condition, string message)
    {
        if (!condition) throw new CheckFailedException(message);
    }

    public static void Equal<T>(T expected, T actual, string what)
    {
        if (!EqualityComparer<T>.Default.Equals(expected, actual))
            throw new CheckFailedException($"{what}: expected {expected}, got {actual}");
    }

    /// <summary>Bit-for-bit equality of two spans, reporting the first differing index.</summary>
    public static void SequenceEqual<T>(ReadOnlySpan<T> expected, ReadOnlySpan<T> actual, string what)
        where T : IEquatable<T>
    {
        if (expected.Length != actual.Length)
            throw new CheckFailedException($"{what}: length {actual.Length}, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            if (!expected[i].Equals(actual[i]))
                throw new CheckFailedException($"{what}: first difference at [{i}]: expected {expected[i]}, got {actual[i]}");
        }
    }

    public static TException Throws<TException>(Action action, string what) where TException : Exception
    {
        try
        {
            action();
        }
        catch (TException e)
        {
            return e;
        }
        catch (Exception e)
        {
            throw new CheckFailedException($"{what}: expected {typeof(TException).Name}, got {e.GetType().Name}: {e.Message}");
        }
        throw new CheckFailedException($"{what}: expected {typeof(TException).Name}, nothing was thrown");
    }
}
