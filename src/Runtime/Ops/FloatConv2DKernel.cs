using EdgeAgent.Kernels;
using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Ops;

/// <summary>
/// Float Conv (1-D and 2-D) with constant weights on the float kernels. The image moves to NHWC in a buffer
/// the node owns; depthwise convolutions run the direct depthwise kernel, every other one a GEMM with the output
/// pixels as rows: 1x1 stride-1 convolutions read the NHWC image directly, the rest gather (im2col) their rows
/// first. Weights are reordered to (ky, kx, c) and packed per group at load; bias and a fused ReLU/Clip run in
/// the kernel epilogue, other fused activations right after each block. Pixel rows split over the session's
/// threads; every output is the same FMA chain whatever the split, so thread counts give identical bits.
/// </summary>
internal sealed class FloatConv2DKernel : OpKernel, IParallelWork, Execution.INhwcKernel
{
    private enum Mode { Depthwise, Pointwise, Im2Col }
    private enum Phase { ToNhwc, Compute }

    private const long MinParallelWork = 32 * 1024;

    private readonly KernelTable _table;
    private readonly WorkerPool? _pool;
    private readonly Mode _mode;
    private readonly FusedActivation _activation;
    private readonly WindowGeometry _window;
    private readonly int _batch, _height, _width, _channels, _outChannels, _groups, _cg, _mg, _kg, _outPixels;
    private readonly float[][] _packed = [];
    private readonly float[] _depthwiseWeights = [];
    private readonly float[] _bias;
    private readonly float[] _cols;
    // NHWC copies of the image and the result, made on first use unless the neighbours hand over NHWC directly.
    private float[]? _input, _output;
    private bool _readNhwc, _writeNhwc;
    private readonly int _chunks, _inputChunks;
    private Phase _phase;
    private Tensor? _x, _y;

    public override string Path => _mode switch
    {
        Mode.Depthwise => $"dwconv.{_table.DepthwiseFloatPathName}",
        Mode.Pointwise => $"sgemm.{_table.SgemmPathName}",
        _ => $"im2col-sgemm.{_table.SgemmPathName}",
    } + _activation.PathSuffix;

    private FloatConv2DKernel(CompileContext c, WindowGeometry window, int batch, int channels, int outChannels, int groups,
        ReadOnlySpan<float> weights, float[] bias, FusedActivation activation)
    {
        _table = c.Resources.Table;
        _pool = c.Resources.Pool;
        _window = window;
        _activation = activation;
        _batch = batch; _height = window.InputHeight; _width = window.InputWidth; _channels = channels; _outChannels = outChannels; _groups = groups;
        _cg = channels / groups; _mg = outChannels / groups;
        int taps = window.KernelHeight * window.KernelWidth;
        _kg = taps * _cg;
        _outPixels = window.OutputHeight * window.OutputWidth;
        _bias = bias;
        bool pointwise = taps == 1 && window.StrideHeight == 1 && window.StrideWidth == 1
            && window.PadTop == 0 && window.PadLeft == 0 && window.PadBottom == 0 && window.PadRight == 0;
        _mode = groups == channels && outChannels == groups && groups > 1 ? Mode.Depthwise : pointwise && groups == 1 ? Mode.Pointwise : Mode.Im2Col;
        _ = checked(batch * _height * _width * channels + batch * _outPixels * outChannels);
        _cols = _mode == Mode.Im2Col ? new float[checked(batch * _outPixels * _kg)] : [];
        if (_mode == Mode.Depthwise)
        {
            // ONNX [C][1][KH][KW] → the kernel's [KH][KW][C].
            _depthwiseWeights = new float[taps * channels];
            for (int ch = 0; ch < channels; ch++)
                for (int t = 0; t < taps; t++) _depthwiseWeights[t * channels + ch] = weights[ch * taps + t];
        }
        else
        {
            // ONNX [M][C/g][KH][KW] → per group, rows of B^T in the (ky, kx, c) order the gathered rows use.
            _packed = new float[groups][];
            var bt = new float[_mg * _kg];
            for (int g = 0; g < groups; g++)
            {
                for (int m = 0; m < _mg; m++)
                    for (int ci = 0; ci < _cg; ci++)
                        for (int t = 0; t < taps; t++)
                            bt[m * _kg + t * _cg + ci] = weights[((g * _mg + m) * _cg + ci) * taps + t];
                _packed[g] = new float[SgemmPacking.PackedLength(_kg, _mg)];
                SgemmPacking.PackTransposed(bt, _kg, _kg, _mg, _packed[g]);
            }
        }
        int threads = _pool?.ThreadCount ?? 1;
        long work = (long)batch * _outPixels * outChannels * _kg;
        int rows = _mode == Mode.Depthwise ? batch * window.OutputHeight : batch * _outPixels;
        _chunks = threads <= 1 || work < MinParallelWork ? 1 : Math.Min(rows, threads * 2);
        _inputChunks = _chunks == 1 ? 1 : Math.Min(batch * _height, threads);
    }

    /// <summary>
    /// The kernel for a 1-D or 2-D Conv whose weights (and bias, if any) are constants, or null (the caller
    /// then runs the general im2col path).
    /// </summary>
    public static OpKernel? TryCreate(CompileContext c, ConvGeometry geo, int group, FusedActivation activation)
    {
        var x = c.InputShape(0);
        if (x.Length is not (3 or 4) || c.Constant(1) is not { } w || x[0] == 0) return null;
        bool twoD = x.Length == 4;
        int m = w.Shape[0];
        var window = new WindowGeometry(twoD ? x[2] : 1, x[^1], twoD ? geo.Kernel[0] : 1, geo.Kernel[^1],
            twoD ? geo.Strides[0] : 1, geo.Strides[^1], twoD ? geo.PadBegin[0] : 0, geo.PadBegin[^1], twoD ? geo.PadEnd[0] : 0, geo.PadEnd[^1],
            twoD ? geo.Dilations[0] : 1, geo.Dilations[^1]);
        if (window.OutputHeight != (twoD ? geo.Output[0] : 1) || window.OutputWidth != geo.Output[^1] || geo.OutputSize == 0) return null;
        float[] bias = [];
        if (c.HasInput(2))
        {
            if (c.Constant(2) is not { } b) return null;
            bias = b.Span<float>().ToArray();
        }
        return new FloatConv2DKernel(c, window, x[0], x[1], m, group, w.Span<float>(), bias, activation);
    }

    public bool CanReadNhwc => true;
    public bool CanWriteNhwc => true;
    public void ReadNhwc() => _readNhwc = true;
    public void WriteNhwc() => _writeNhwc = true;

    /// <summary>The NHWC image the kernels read: the input tensor itself when the producer wrote NHWC.</summary>
    private Span<float> In => _readNhwc ? _x!.Span<float>() : _input;

    /// <summary>The NHWC result the kernels write: the output tensor itself when the consumer reads NHWC.</summary>
    private Span<float> Out => _writeNhwc ? _y!.Span<float>() : _output;

    public override void Run(Tensor?[] inputs, Tensor[] outputs)
    {
        _x = inputs[0]!;
        _y = outputs[0];
        if (!_readNhwc) _input ??= new float[_batch * _height * _width * _channels];
        if (!_writeNhwc) _output ??= new float[_batch * _outPixels * _outChannels];
        _phase = Phase.ToNhwc;
        if (!_readNhwc) Dispatch(_inputChunks);
        _phase = Phase.Compute;
        Dispatch(_chunks);
        _x = _y = null;
    }

    private void Dispatch(int chunks)
    {
        if (chunks == 1) Execute(0);
        else _pool!.Run(this, chunks);
    }

    public void Execute(int index)
    {
        if (_phase == Phase.ToNhwc) { InputRows(index); return; }
        if (_mode == Mode.Depthwise) { DepthwiseRows(index); return; }
        int total = _batch * _outPixels;
        int r0 = (int)((long)total * index / _chunks), r1 = (int)((long)total * (index + 1) / _chunks);
        if (r1 > r0) GemmRows(r0, r1);
    }

    /// <summary>Image rows [h0, h1) (over the whole batch) from NCHW into the NHWC buffer.</summary>
    private void InputRows(int index)
    {
        int rows = _batch * _height;
        int h0 = (int)((long)rows * index / _inputChunks), h1 = (int)((long)rows * (index + 1) / _inputChunks);
        var x = _x!.Span<float>();
        int plane = _height * _width, c = _channels;
        for (int r = h0; r < h1; r++)
        {
            int b = r / _height, h = r % _height;
            var dst = _input.AsSpan((r * _width) * c, _width * c);
            for (int ch = 0; ch < c; ch++)
            {
                var src = x.Slice((b * c + ch) * plane + h * _width, _width);
                for (int w = 0; w < src.Length; w++) dst[w * c + ch] = src[w];
            }
        }
    }

    private void DepthwiseRows(int index)
    {
        int outH = _window.OutputHeight, rows = _batch * outH;
        int r0 = (int)((long)rows * index / _chunks), r1 = (int)((long)rows * (index + 1) / _chunks);
        int inImage = _height * _width * _channels, outImage = _outPixels * _channels;
        for (int r = r0; r < r1;)
        {
            int b = r / outH, row = r % outH, count = Math.Min(r1 - r, outH - row);
            var output = Out.Slice(b * outImage, outImage);
            _table.DepthwiseConv(_window, _channels, In.Slice(b * inImage, inImage), _depthwiseWeights, _bias, _activation.Clamp,
                output, row, count);
            int p0 = row * _window.OutputWidth, p1 = (row + count) * _window.OutputWidth;
            _activation.ApplyInPlace(output.Slice(p0 * _channels, (p1 - p0) * _channels));
            ToNchw(b * _outPixels + p0, b * _outPixels + p1);
            r += count;
        }
    }

    /// <summary>Output pixels [r0, r1) over the whole batch: gather (if needed), GEMM per group, activation, back to NCHW.</summary>
    private void GemmRows(int r0, int r1)
    {
        int rows = r1 - r0, m = _outChannels;
        var output = Out.Slice(r0 * m, rows * m);
        for (int g = 0; g < _groups; g++)
        {
            ReadOnlySpan<float> a;
            int lda;
            if (_mode == Mode.Pointwise) { a = In.Slice(r0 * _channels, rows * _channels); lda = _channels; }
            else
            {
                var cols = _cols.AsSpan(r0 * _kg, rows * _kg);
                Gather(r0, r1, g, cols);
                a = cols; lda = _kg;
            }
            ReadOnlySpan<float> bias = _bias.Length == 0 ? default : _bias.AsSpan(g * _mg, _mg);
            _table.Sgemm(rows, _mg, _kg, a, lda, _packed[g], bias, output.Slice(g * _mg), m, _activation.Clamp);
        }
        _activation.ApplyInPlace(output);
        ToNchw(r0, r1);
    }

    /// <summary>im2col rows for output pixels [r0, r1) and group g: taps in (ky, kx) order, each C/g channels, zeros outside the image.</summary>
    private unsafe void Gather(int r0, int r1, int g, Span<float> cols)
    {
        var w = _window;
        int outW = w.OutputWidth, c = _channels, cg = _cg, kw = w.KernelWidth;
        // In NHWC a kernel row of an ungrouped, undilated convolution is kw x C consecutive floats: inside the
        // image it is one copy (a 3x3 RGB stem: 3 copies of 9 floats per pixel instead of 9 of 3).
        bool rowsContiguous = cg == c && w.DilationWidth == 1;
        int rowFloats = kw * cg;
        fixed (float* image = In)
        fixed (float* columns = cols)
        {
            for (int r = r0; r < r1; r++)
            {
                int b = r / _outPixels, p = r % _outPixels, oh = p / outW, ow = p % outW;
                float* row = columns + (long)(r - r0) * _kg;
                int iw0 = ow * w.StrideWidth - w.PadLeft;
                bool inside = iw0 >= 0 && iw0 + (kw - 1) * w.DilationWidth < _width;
                for (int ky = 0; ky < w.KernelHeight; ky++, row += rowFloats)
                {
                    int ih = oh * w.StrideHeight - w.PadTop + ky * w.DilationHeight;
                    if ((uint)ih >= (uint)_height)
                    {
                        new Span<float>(row, rowFloats).Clear();
                        continue;
                    }
                    float* line = image + ((long)(b * _height + ih) * _width) * c + g * cg;
                    if (rowsContiguous && inside)
                    {
                        Copy(line + (long)iw0 * c, row, rowFloats);
                        continue;
                    }
                    for (int kx = 0; kx < kw; kx++)
                    {
                        int iw = iw0 + kx * w.DilationWidth;
                        if ((uint)iw >= (uint)_width) new Span<float>(row + kx * cg, cg).Clear();
                        else Copy(line + (long)iw * c, row + kx * cg, cg);
                    }
                }
            }
        }
    }

    private static unsafe void Copy(float* src, float* dst, int count)
    {
        // Stems copy a handful of floats at a time, where a loop beats a call to memmove.
        if (count <= 16)
        {
            for (int i = 0; i < count; i++) dst[i] = src[i];
            return;
        }
        new ReadOnlySpan<float>(src, count).CopyTo(new Span<float>(dst, count));
    }

    /// <summary>Output pixels [r0, r1) (over the whole batch) from the NHWC buffer into the NCHW output.</summary>
    private void ToNchw(int r0, int r1)
    {
        if (_writeNhwc) return;
        var y = _y!.Span<float>();
        int m = _outChannels;
        for (int r = r0; r < r1;)
        {
            int b = r / _outPixels, p0 = r % _outPixels, p1 = Math.Min(_outPixels, p0 + (r1 - r));
            for (int ch = 0; ch < m; ch++)
            {
                var dst = y.Slice((b * m + ch) * _outPixels, _outPixels);
                var src = _output.AsSpan((b * _outPixels) * m + ch);
                for (int p = p0; p < p1; p++) dst[p] = src[p * m];
            }
            r += p1 - p0;
        }
    }
}
