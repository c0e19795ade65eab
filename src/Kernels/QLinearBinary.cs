namespace EdgeAgent.Kernels;

/// <summary>The requantized element-wise operations (ONNX QLinearAdd and QLinearMul).</summary>
public enum QLinearBinaryOp
{
    /// <summary><c>c = q(sa (a - za) + sb (b - zb))</c>.</summary>
    Add,
    /// <summary><c>c = q(sa sb (a - za)(b - zb))</c>.</summary>
    Mul,
}

/// <summary>
/// Quantization of a QLinearAdd/QLinearMul: each input's scale and zero point, the output scale, and the output
/// zero point and clamp (<see cref="QuantizedOutput"/>, where a fused ReLU goes).
/// </summary>
public readonly record struct QLinearBinaryParams(float AScale, int AZeroPoint, float BScale, int BZeroPoint, float OutputScale, QuantizedOutput Output)
{
    internal void Validate(string kernel, int zpMin, int zpMax)
    {
        foreach (var (name, s) in new[] { ("A scale", AScale), ("B scale", BScale), ("output scale", OutputScale) })
            if (!(s > 0) || !float.IsFinite(s)) throw new ArgumentException($"{kernel}: {name} must be positive and finite, got {s}");
        if (AZeroPoint < zpMin || AZeroPoint > zpMax) throw new ArgumentException($"{kernel}: A zero point {AZeroPoint} outside {zpMin}..{zpMax}");
        if (BZeroPoint < zpMin || BZeroPoint > zpMax) throw new ArgumentException($"{kernel}: B zero point {BZeroPoint} outside {zpMin}..{zpMax}");
        if (Output.Min < zpMin || Output.Max > zpMax) throw new ArgumentException($"{kernel}: output range {Output.Min}..{Output.Max} does not fit the element type ({zpMin}..{zpMax})");
    }
}

/// <summary>
/// The per-call constants every path uses, computed once in scalar float so all paths multiply by the same
/// values: Add: <c>v = (float)(a - za) * MulA + (float)(b - zb) * MulB</c> (two products, one sum, no FMA);
/// Mul: <c>v = (float)((a - za) * (b - zb)) * MulA</c>; then <see cref="Requantization.RequantizeFloat"/>.
/// </summary>
internal readonly struct QLinearBinaryConstants
{
    public readonly QLinearBinaryOp Op;
    public readonly int Za, Zb, Zc;
    public readonly float MulA, MulB, Lo, Hi;

    public QLinearBinaryConstants(QLinearBinaryOp op, in QLinearBinaryParams p)
    {
        Op = op;
        Za = p.AZeroPoint;
        Zb = p.BZeroPoint;
        Zc = p.Output.ZeroPoint;
        if (op == QLinearBinaryOp.Add)
        {
            MulA = p.AScale / p.OutputScale;
            MulB = p.BScale / p.OutputScale;
        }
        else
        {
            MulA = p.AScale * p.BScale / p.OutputScale;
            MulB = 0f;
        }
        (Lo, Hi) = Requantization.Bounds(p.Output);
    }

    /// <summary>The scalar form, the specification of the vector rows.</summary>
    public int Apply(int a, int b)
    {
        float v = Op == QLinearBinaryOp.Add
            ? (float)(a - Za) * MulA + (float)(b - Zb) * MulB
            : (float)((a - Za) * (b - Zb)) * MulA;
        return Requantization.RequantizeFloat(v, Lo, Hi, Zc);
    }
}
