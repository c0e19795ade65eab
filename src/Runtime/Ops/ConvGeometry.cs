namespace EdgeAgent.Runtime.Ops;

/// <summary>
/// Spatial geometry shared by Conv, ConvInteger, QLinearConv and the pools: kernel, strides,
/// dilations, pads (explicit or auto_pad) and output sizes for any number of spatial dims.
/// </summary>
internal sealed class ConvGeometry
{
    public int[] Input = [];      // spatial input dims
    public int[] Kernel = [];
    public int[] Strides = [];
    public int[] Dilations = [];
    public int[] PadBegin = [];
    public int[] PadEnd = [];
    public int[] Output = [];
    public int InputSize, KernelSize, OutputSize;

    public static ConvGeometry Of(CompileContext c, int[] inputSpatial, int[] kernel, bool ceilMode = false, bool isPool = false)
    {
        int n = inputSpatial.Length;
        var g = new ConvGeometry { Input = inputSpatial, Kernel = kernel };
        g.Strides = Spec(c, "strides", n, 1);
        g.Dilations = Spec(c, "dilations", n, 1);
        g.PadBegin = new int[n]; g.PadEnd = new int[n]; g.Output = new int[n];
        for (int d = 0; d < n; d++)
        {
            if (g.Strides[d] <= 0) throw c.Error("strides", $"stride {g.Strides[d]} must be positive");
            if (g.Dilations[d] <= 0) throw c.Error("dilations", $"dilation {g.Dilations[d]} must be positive");
            if (kernel[d] <= 0) throw c.Error("kernel_shape", $"kernel size {kernel[d]} must be positive");
        }
        string autoPad = c.String("auto_pad", "NOTSET");
        var pads = c.Ints("pads");
        for (int d = 0; d < n; d++)
        {
            int effective = (kernel[d] - 1) * g.Dilations[d] + 1;
            switch (autoPad)
            {
                case "SAME_UPPER" or "SAME_LOWER":
                {
                    int output = (inputSpatial[d] + g.Strides[d] - 1) / g.Strides[d];
                    int total = Math.Max(0, (output - 1) * g.Strides[d] + effective - inputSpatial[d]);
                    int small = total / 2;
                    g.PadBegin[d] = autoPad == "SAME_UPPER" ? small : total - small;
                    g.PadEnd[d] = total - g.PadBegin[d];
                    g.Output[d] = output;
                    continue;
                }
                case "VALID": break;
                case "NOTSET" or "":
                    if (pads is not null)
                    {
                        if (pads.Length != 2 * n) throw c.Error("pads", $"{pads.Length} values for {n} spatial dims");
                        if (pads[d] < 0 || pads[d + n] < 0) throw c.Error("pads", "negative padding");
                        g.PadBegin[d] = (int)pads[d];
                        g.PadEnd[d] = (int)pads[d + n];
                    }
                    break;
                default: throw c.Error("auto_pad", $"unknown value '{autoPad}'");
            }
            long span = (long)inputSpatial[d] + g.PadBegin[d] + g.PadEnd[d] - effective;
            if (span < 0) throw c.Error("kernel_shape", $"kernel {effective} is larger than padded input {inputSpatial[d] + g.PadBegin[d] + g.PadEnd[d]}");
            long o = ceilMode ? (span + g.Strides[d] - 1) / g.Strides[d] + 1 : span / g.Strides[d] + 1;
            // A ceil-mode window must start inside the input or left padding.
            if (ceilMode && (o - 1) * g.Strides[d] >= inputSpatial[d] + g.PadBegin[d]) o--;
            g.Output[d] = (int)o;
        }
        _ = isPool;
        long ks = 1, os = 1, ins = 1;
        for (int d = 0; d < n; d++)
        {
            ks *= kernel[d]; os *= g.Output[d]; ins *= inputSpatial[d];
            if (ks > int.MaxValue || os > int.MaxValue) throw c.Error("kernel_shape", "kernel or output too large");
        }
        c.RequireTableSize(ks * os, "kernel_shape");
        g.InputSize = (int)ins; g.KernelSize = (int)ks; g.OutputSize = (int)os;
        return g;
    }

    private static int[] Spec(CompileContext c, string name, int n, int fallback)
    {
        var v = c.Ints(name);
        if (v is null) return Enumerable.Repeat(fallback, n).ToArray();
        if (v.Length != n) throw c.Error(name, $"{v.Length} values for {n} spatial dims");
        return v.Select(x => (int)Math.Clamp(x, int.MinValue, int.MaxValue)).ToArray();
    }

    public static int Product(int[] dims)
    {
        long p = 1;
        foreach (var d in dims) p *= d;
        return (int)p;
    }

    /// <summary>
    /// For each kernel tap and output position, the input spatial offset or -1 for padding:
    /// the im2col gather table, computed once per node ([KernelSize, OutputSize]).
    /// </summary>
    public int[] GatherTable()
    {
        int n = Input.Length;
        var table = new int[KernelSize * OutputSize];
        var kIdx = new int[n]; var oIdx = new int[n];
        for (int k = 0; k < KernelSize; k++)
        {
            int rem = k;
            for (int d = n - 1; d >= 0; d--) { kIdx[d] = rem % Kernel[d]; rem /= Kernel[d]; }
            for (int p = 0; p < OutputSize; p++)
            {
                rem = p;
                for (int d = n - 1; d >= 0; d--) { oIdx[d] = rem % Output[d]; rem /= Output[d]; }
                int offset = 0;
                bool inside = true;
                for (int d = 0; d < n; d++)
                {
                    int pos = oIdx[d] * Strides[d] - PadBegin[d] + kIdx[d] * Dilations[d];
                    if (pos < 0 || pos >= Input[d]) { inside = false; break; }
                    offset = offset * Input[d] + pos;
                }
                table[k * OutputSize + p] = inside ? offset : -1;
            }
        }
        return table;
    }
}
