using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Ops;

/// <summary>Resize (opsets 10-19: nearest and linear, every coordinate transformation) and Upsample.</summary>
internal static class ResizeOp
{
    public static void Register(Dictionary<string, OpCompiler> ops)
    {
        ops["Resize"] = Resize;
        ops["Upsample"] = Upsample;
    }

    private static OpKernel Upsample(CompileContext c)
    {
        var x = c.InputShape(0);
        float[] scales = c.Opset >= 9 ? c.RequireValue(1, "input 'scales'").Span<float>().ToArray()
            : c.Floats("scales") ?? throw c.Error("scales", "missing");
        string mode = c.String("mode", "nearest");
        return Build(c, x, scales.Select(s => (double)s).ToArray(), null, mode == "linear" || mode == "bilinear" ? "linear" : "nearest",
            "asymmetric", "floor", 0, []);
    }

    private static OpKernel Resize(CompileContext c)
    {
        var x = c.InputShape(0);
        int rank = x.Length;
        string mode = c.String("mode", "nearest");
        if (mode == "cubic") throw c.Unsupported("mode", "cubic interpolation is not supported");
        if (mode is not ("nearest" or "linear")) throw c.Error("mode", $"unknown mode '{mode}'");
        if (c.Int("antialias", 0) != 0) throw c.Unsupported("antialias", "antialiasing is not supported");
        if (c.String("keep_aspect_ratio_policy", "stretch") != "stretch") throw c.Unsupported("keep_aspect_ratio_policy", "only 'stretch' is supported");
        string ctm = c.String("coordinate_transformation_mode", c.Opset >= 11 ? "half_pixel" : "asymmetric");
        string nearest = c.String("nearest_mode", c.Opset >= 11 ? "round_prefer_floor" : "floor");
        float extrapolation = c.Float("extrapolation_value", 0);
        var axes = c.Ints("axes")?.Select(a => c.Axis(a, rank, "axes")).ToArray() ?? Enumerable.Range(0, rank).ToArray();
        double[] scales = Enumerable.Repeat(1.0, rank).ToArray();
        int[]? sizes = null;
        double[] roi = [];
        int scalesInput = c.Opset >= 11 ? 2 : 1;
        if (c.Opset >= 11 && c.HasInput(1) && ctm == "tf_crop_and_resize")
        {
            var r = c.RequireValue(1, "input 'roi'").Span<float>().ToArray();
            roi = new double[2 * rank];
            for (int d = 0; d < rank; d++) { roi[d] = 0; roi[d + rank] = 1; }
            for (int k = 0; k < axes.Length; k++) { roi[axes[k]] = r[k]; roi[axes[k] + rank] = r[k + axes.Length]; }
        }
        if (c.HasInput(scalesInput) && c.RequireValue(scalesInput, "input 'scales'") is { ElementCount: > 0 } sv)
        {
            var s = sv.Span<float>();
            if (s.Length != axes.Length) throw c.Error("input 'scales'", $"{s.Length} values for {axes.Length} axes");
            for (int k = 0; k < axes.Length; k++) scales[axes[k]] = s[k];
        }
        else if (c.Opset >= 11 && c.HasInput(3))
        {
            var z = c.RequireValue(3, "input 'sizes'").ToInt64Array();
            if (z.Length != axes.Length) throw c.Error("input 'sizes'", $"{z.Length} values for {axes.Length} axes");
            sizes = (int[])x.Clone();
            for (int k = 0; k < axes.Length; k++)
            {
                sizes[axes[k]] = (int)z[k];
                scales[axes[k]] = (double)z[k] / x[axes[k]];
            }
        }
        else throw c.Error("input 'scales'", "neither scales nor sizes is given");
        return Build(c, x, scales, sizes, mode, ctm, nearest, extrapolation, roi);
    }

    private static OpKernel Build(CompileContext c, int[] x, double[] scales, int[]? sizes, string mode, string ctm, string nearest,
        float extrapolation, double[] roi)
    {
        c.RequireType(0, DataType.Float, DataType.UInt8, DataType.Int8);
        int rank = x.Length;
        if (scales.Length != rank) throw c.Error("scales", $"{scales.Length} values for rank {rank}");
        var output = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            if (scales[d] <= 0) throw c.Error("scales", $"scale {scales[d]} must be positive");
            output[d] = sizes?[d] ?? (int)Math.Floor(x[d] * scales[d] + 1e-9);
        }
        c.SetOutput(0, c.InputType(0), output);
        // Per dim and output index: source coordinate (in input units).
        var coord = new double[rank][];
        for (int d = 0; d < rank; d++)
        {
            coord[d] = new double[output[d]];
            double scale = scales[d];
            for (int o = 0; o < output[d]; o++)
            {
                double v = ctm switch
                {
                    "asymmetric" => o / scale,
                    // ONNX uses the unrounded resized length (in * scale) when scales were given.
                    "align_corners" => output[d] == 1 ? 0 : o * (x[d] - 1.0) / ((sizes is null ? x[d] * scale : output[d]) - 1.0),
                    "tf_half_pixel_for_nn" => (o + 0.5) / scale,
                    "pytorch_half_pixel" => output[d] > 1 ? (o + 0.5) / scale - 0.5 : 0,
                    "half_pixel_symmetric" => HalfPixelSymmetric(o, x[d], output[d], scale),
                    "tf_crop_and_resize" => output[d] > 1
                        ? roi[d] * (x[d] - 1) + o * (roi[d + rank] - roi[d]) * (x[d] - 1) / (output[d] - 1)
                        : 0.5 * (roi[d] + roi[d + rank]) * (x[d] - 1),
                    "half_pixel" => (o + 0.5) / scale - 0.5,
                    _ => throw c.Error("coordinate_transformation_mode", $"unknown value '{ctm}'"),
                };
                coord[d][o] = v;
            }
        }
        var inStrides = ShapeOps.Strides(x);
        int total = ConvGeometry.Product(output);
        bool linear = mode == "linear";
        bool crop = ctm == "tf_crop_and_resize";
        var idx = new int[rank];
        return new DelegateKernel((i, o) =>
        {
            var input = i[0]!; var dst = o[0];
            for (int e = 0; e < total; e++)
            {
                int rem = e;
                for (int d = rank - 1; d >= 0; d--) { idx[d] = rem % output[d]; rem /= output[d]; }
                bool outside = false;
                for (int d = 0; d < rank && crop; d++)
                {
                    double v = coord[d][idx[d]];
                    if (v < 0 || v > x[d] - 1) outside = true;
                }
                double value;
                if (outside) value = extrapolation;
                else if (!linear)
                {
                    int off = 0;
                    for (int d = 0; d < rank; d++)
                    {
                        double v = coord[d][idx[d]];
                        int n = Nearest(v, nearest, scales[d] < 1);
                        n = Math.Clamp(n, 0, x[d] - 1);
                        off += n * inStrides[d];
                    }
                    value = input.GetDouble(off);
                }
                else
                {
                    // N-linear: sum over the 2^rank corners of dims that are actually resized.
                    value = 0;
                    int corners = 1 << rank;
                    for (int m = 0; m < corners; m++)
                    {
                        double weight = 1; int off = 0;
                        for (int d = 0; d < rank; d++)
                        {
                            double v = Math.Clamp(coord[d][idx[d]], 0, x[d] - 1);
                            int lo = (int)Math.Floor(v);
                            int hi = Math.Min(lo + 1, x[d] - 1);
                            double frac = v - lo;
                            bool upper = (m >> d & 1) != 0;
                            weight *= upper ? frac : 1 - frac;
                            off += (upper ? hi : lo) * inStrides[d];
                        }
                        if (weight == 0) continue;
                        value += weight * input.GetDouble(off);
                    }
                }
                if (dst.DataType == DataType.Float) dst.Span<float>()[e] = (float)value;
                else CastOps.SetFromDouble(dst, e, Math.Round(value, MidpointRounding.ToEven));
            }
        });
    }

    private static double HalfPixelSymmetric(int o, int inDim, int outDim, double scale)
    {
        double adjustment = outDim / (scale * inDim);
        double center = inDim / 2.0;
        double offset = center * (1 - adjustment);
        return offset + (o + 0.5) / scale - 0.5;
    }

    private static int Nearest(double v, string mode, bool downsample) => mode switch
    {
        "floor" => (int)Math.Floor(v),
        "ceil" => (int)Math.Ceiling(v),
        "round_prefer_ceil" => (int)Math.Floor(v + 0.5),
        _ => v == Math.Floor(v) + 0.5 ? (int)Math.Floor(v) : (int)Math.Round(v),
    };
}
