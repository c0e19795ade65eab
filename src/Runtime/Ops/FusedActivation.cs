using System.Numerics.Tensors;
using EdgeAgent.Kernels;
using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Ops;

/// <summary>The activation functions <see cref="Execution.ActivationFusion"/> folds into a float Conv, Gemm or MatMul.</summary>
public enum FusedActivationKind { None, Relu, Clip, LeakyRelu, HardSwish, Sigmoid }

/// <summary>
/// An activation carried by a fused float node (attributes <c>activation</c>, <c>activation_min</c>,
/// <c>activation_max</c>, <c>activation_alpha</c>). ReLU and Clip become the kernel epilogue's clamp; the others
/// run over each block of output right after the kernel wrote it, while it is still in cache. Each computes what
/// the standalone operator computes, element for element.
/// </summary>
public readonly record struct FusedActivation(FusedActivationKind Kind, float Min, float Max, float Alpha)
{
    public const string KindAttribute = "activation";
    public const string MinAttribute = "activation_min";
    public const string MaxAttribute = "activation_max";
    public const string AlphaAttribute = "activation_alpha";

    public static FusedActivation None { get; } = new(FusedActivationKind.None, float.NegativeInfinity, float.PositiveInfinity, 0);

    /// <summary>The activation a node carries, or <see cref="None"/>.</summary>
    public static FusedActivation Of(CompileContext c)
    {
        string name = c.String(KindAttribute, "");
        if (name.Length == 0) return None;
        if (!Enum.TryParse<FusedActivationKind>(name, out var kind) || kind == FusedActivationKind.None)
            throw c.Error(KindAttribute, $"'{name}' is not an activation this runtime fuses (Relu, Clip, LeakyRelu, HardSwish, Sigmoid)");
        float min = c.Float(MinAttribute, float.NegativeInfinity), max = c.Float(MaxAttribute, float.PositiveInfinity);
        if (kind == FusedActivationKind.Relu) min = 0;
        if (float.IsNaN(min) || float.IsNaN(max) || min > max) throw c.Error(MinAttribute, $"clamp bounds [{min}, {max}] are not an interval");
        return new(kind, min, max, c.Float(AlphaAttribute, 0.01f));
    }

    /// <summary>Attributes describing this activation on a fused node.</summary>
    public IEnumerable<NodeAttribute> Attributes()
    {
        if (Kind == FusedActivationKind.None) yield break;
        yield return NodeAttribute.Of(KindAttribute, Kind.ToString());
        if (Kind == FusedActivationKind.Clip)
        {
            if (!float.IsNegativeInfinity(Min)) yield return NodeAttribute.Of(MinAttribute, Min);
            if (!float.IsPositiveInfinity(Max)) yield return NodeAttribute.Of(MaxAttribute, Max);
        }
        if (Kind == FusedActivationKind.LeakyRelu) yield return NodeAttribute.Of(AlphaAttribute, Alpha);
    }

    /// <summary>The clamp a kernel epilogue applies (ReLU, Clip), or none.</summary>
    public FloatActivation Clamp => Kind is FusedActivationKind.Relu or FusedActivationKind.Clip ? new FloatActivation(Min, Max) : FloatActivation.None;

    /// <summary>True when the kernel's clamp cannot express it and <see cref="ApplyInPlace"/> must run after the kernel.</summary>
    public bool NeedsPass => Kind is FusedActivationKind.LeakyRelu or FusedActivationKind.HardSwish or FusedActivationKind.Sigmoid;

    /// <summary>Suffix of the kernel path in the session report (e.g. <c>+relu</c>).</summary>
    public string PathSuffix => Kind == FusedActivationKind.None ? "" : "+" + Kind.ToString().ToLowerInvariant();

    /// <summary>Applies the whole activation to values a kernel wrote without it (reference paths).</summary>
    public void ApplyAll(Span<float> values)
    {
        if (Kind is FusedActivationKind.Relu or FusedActivationKind.Clip)
        {
            for (int i = 0; i < values.Length; i++) values[i] = Math.Clamp(values[i], Min, Max);
        }
        else ApplyInPlace(values);
    }

    /// <summary>The part of the activation the kernel's clamp does not cover.</summary>
    public void ApplyInPlace(Span<float> values)
    {
        switch (Kind)
        {
            case FusedActivationKind.Sigmoid:
                TensorPrimitives.Sigmoid(values, values);
                break;
            case FusedActivationKind.HardSwish:
                for (int i = 0; i < values.Length; i++) values[i] = values[i] * Math.Clamp(values[i] / 6f + 0.5f, 0f, 1f);
                break;
            case FusedActivationKind.LeakyRelu:
                float a = Alpha;
                for (int i = 0; i < values.Length; i++) if (values[i] < 0) values[i] = a * values[i];
                break;
        }
    }

    /// <summary>Applies the post-kernel pass to rows [<paramref name="row0"/>, <paramref name="row1"/>) of an m x n block with row stride ldc.</summary>
    public void ApplyInPlace(Span<float> c, int row0, int row1, int n, int ldc)
    {
        if (!NeedsPass) return;
        for (int r = row0; r < row1; r++) ApplyInPlace(c.Slice(r * ldc, n));
    }
}
