namespace EdgeAgent.Kernels;

/// <summary>Argument checks shared by the kernel entry points; each message names the kernel and the argument.</summary>
internal static class KernelArguments
{
    /// <summary>A buffer must hold at least <paramref name="required"/> elements.</summary>
    public static void CheckLength(string kernel, string argument, int actual, long required)
    {
        if (actual < required)
            throw new ArgumentException($"{kernel}: {argument} has {actual} elements, needs {required}");
    }

    /// <summary>[start, start + count) must lie within [0, limit).</summary>
    public static void CheckRange(string kernel, string what, int start, int count, int limit)
    {
        if (start < 0 || count < 0 || (long)start + count > limit)
            throw new ArgumentOutOfRangeException(what, $"{kernel}: {what} [{start}, {(long)start + count}) outside [0, {limit})");
    }
}
