namespace EdgeAgent.Kernels;

/// <summary>
/// A clamp fused into a float kernel's output: ReLU, ReLU6 or any [min, max]. <see cref="None"/> skips the
/// clamp entirely. Every path clamps as x86 MAXPS/MINPS do (<c>t = lo &gt; v ? lo : v; hi &lt; t ? hi : t</c>), so
/// NaN passes through and signed zeros come out the same everywhere.
/// </summary>
public readonly record struct FloatActivation(float Min, float Max)
{
    public static FloatActivation None { get; } = new(float.NegativeInfinity, float.PositiveInfinity);
    public static FloatActivation Relu { get; } = new(0f, float.PositiveInfinity);
    public static FloatActivation Relu6 { get; } = new(0f, 6f);

    /// <summary>Clamp to [<paramref name="min"/>, <paramref name="max"/>] (ONNX Clip fused into the producer).</summary>
    public static FloatActivation Clamp(float min, float max) =>
        min <= max ? new(min, max) : throw new ArgumentException($"fused clamp min {min} > max {max}");

    /// <summary>True when the activation changes nothing (no clamp is applied at all).</summary>
    public bool IsNone => float.IsNegativeInfinity(Min) && float.IsPositiveInfinity(Max);

    internal float Apply(float v) => IsNone ? v : FloatMath.Clamp(v, Min, Max);
}
