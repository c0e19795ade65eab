using System.Diagnostics.CodeAnalysis;

namespace EdgeAgent.Kernels;

// Throws live out of line so the callers' loops stay small and inlinable.
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void Argument(string name, string message) => throw new ArgumentException(message, name);

    [DoesNotReturn]
    public static void Invalid(string message) => throw new InvalidOperationException(message);
}
