using EdgeAgent.Kernels;
using System.Runtime.InteropServices;
using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Ops;

/// <summary>
/// QLinearConv, ConvInteger and fused QDQ Conv (1-D and 2-D) on the int8 kernels: the input is moved to
/// NHWC in a buffer the node owns, depthwise convolutions with symmetric weights run the direct depthwise
/// kernel, every other one <see cref="QConv2D"/> (pointwise GEMM or im2col + QGEMM) with weights packed at
/// load, and bias, requantization and the fused activation clamp happen in the kernel's epilogue.
/// </summary>
internal sealed class Int8ConvKernel : OpKernel, Execution.INhwcKernel
{
    private readonly KernelTable _table;
    private readonly WorkerPool? _pool;
    private readonly Conv2DShape _shape;
    private readonly QConv2D? _conv;
    private readonly DepthwiseWeights? _depthwiseWeights;
    private readonly DepthwiseRows? _depthwise;
    private readonly QConvDirect? _directConv;
    private readonly DirectRows? _direct;
    private readonly bool _signedInput;
    private readonly int _inputZeroPoint;
    private readonly QGemmOutputKind _kind;
    private readonly float[] _scales;
    private readonly int[] _bias, _weightZeroPoints;
    private readonly QuantizedOutput _clamp;
    private readonly byte[] _scratch;
    private readonly int _inputBytes, _outputBytes;
    // NHWC copies of the image and the result, made on first use unless the neighbours hand over NHWC directly.
    private byte[]? _input, _output;
    private bool _readNhwc, _writeNhwc;
    private Tensor? _x, _y;

    public override string Path => _direct is not null ? $"qconv-direct.{_table.Name}" : _conv is null ? $"dwconv-int8.{_table.Name}" : $"qconv.{_table.Name}";

    private Int8ConvKernel(CompileContext c, Conv2DShape shape, sbyte[] weights, bool depthwise, bool direct, bool signedInput, int inputZeroPoint,
        QGemmOutputKind kind, float[] scales, int[] bias, int[] weightZeroPoints, QuantizedOutput clamp)
    {
        _table = c.Resources.Table;
        _pool = c.Resources.Pool;
        _shape = shape;
        _signedInput = signedInput;
        _inputZeroPoint = inputZeroPoint;
        _kind = kind;
        _scales = scales;
        _bias = bias;
        _weightZeroPoints = weightZeroPoints;
        _clamp = clamp;
        int outElement = kind == QGemmOutputKind.Int32 ? 4 : 1;
        _inputBytes = checked(shape.Batch * shape.Height * shape.Width * shape.InChannels);
        _outputBytes = checked(shape.Batch * shape.OutHeight * shape.OutWidth * shape.OutChannels * outElement);
        if (depthwise)
        {
            // ONNX [C][1][KH][KW] → the kernel's [KH][KW][C], prepared once for the table's path.
            int taps = shape.KernelHeight * shape.KernelWidth, ch = shape.OutChannels;
            var hwc = new sbyte[taps * ch];
            for (int o = 0; o < ch; o++)
                for (int t = 0; t < taps; t++) hwc[t * ch + o] = weights[o * taps + t];
            _depthwiseWeights = _table.PackDepthwise(hwc, taps, ch);
            _depthwise = new DepthwiseRows(this);
            _scratch = [];
        }
        else if (direct)
        {
            _directConv = new QConvDirect(_table, shape, weights);
            _direct = new DirectRows(this);
            _scratch = [];
        }
        else
        {
            _conv = new QConv2D(_table, shape, weights);
            _scratch = new byte[_conv.ScratchBytes];
        }
    }

    /// <summary>
    /// The kernel for a 1-D or 2-D convolution whose weights and quantization parameters are constants
    /// (input parameters per tensor), or null (the caller then runs the reference).
    /// </summary>
    public static OpKernel? TryCreate(CompileContext c, bool quantizedOutput, ConvGeometry geo, int group)
    {
        int ix = 0, iw = quantizedOutput ? 3 : 1, izx = 2, izw = quantizedOutput ? 5 : 3;
        var x = c.InputShape(ix);
        if (x.Length is not (3 or 4) || c.Constant(iw) is not { } w) return null;
        int m = w.Shape[0];
        bool twoD = x.Length == 4;
        var shape = new Conv2DShape(
            Batch: x[0], Height: twoD ? x[2] : 1, Width: twoD ? x[3] : x[2], InChannels: x[1], OutChannels: m,
            KernelHeight: twoD ? geo.Kernel[0] : 1, KernelWidth: geo.Kernel[^1],
            StrideHeight: twoD ? geo.Strides[0] : 1, StrideWidth: geo.Strides[^1],
            PadTop: twoD ? geo.PadBegin[0] : 0, PadLeft: geo.PadBegin[^1], PadBottom: twoD ? geo.PadEnd[0] : 0, PadRight: geo.PadEnd[^1],
            DilationHeight: twoD ? geo.Dilations[0] : 1, DilationWidth: geo.Dilations[^1], Groups: group);
        if (shape.Batch == 0 || shape.OutHeight != (twoD ? geo.Output[0] : 1) || shape.OutWidth != geo.Output[^1]) return null;
        if (w.ElementCount != (long)m * shape.GroupInChannels * shape.KernelHeight * shape.KernelWidth) return null;
        var zx = QuantizationConstants.ZeroPoints(c, izx, 1);
        var zw = QuantizationConstants.ZeroPoints(c, izw, m);
        if (zx is null || zw is null) return null;
        var weights = QuantizationConstants.SignedWeights(w, zw);
        bool symmetric = zw.All(z => z == 0);
        int[] weightZeroPoints = symmetric ? [] : zw;
        bool signedInput = c.InputType(ix) == DataType.Int8;
        if (!quantizedOutput)
            return new Int8ConvKernel(c, shape, weights, false, false, signedInput, zx[0], QGemmOutputKind.Int32, [], [], weightZeroPoints, QuantizedOutput.U8(0));

        var sx = QuantizationConstants.Scales(c, 1, 1);
        var sw = QuantizationConstants.Scales(c, 4, m);
        var sy = QuantizationConstants.Scales(c, 6, 1);
        var zy = QuantizationConstants.ZeroPoints(c, 7, 1);
        if (sx is null || sw is null || sy is null || zy is null) return null;
        var scales = QuantizationConstants.RequantScales(sx[0], QuantizationConstants.PerChannel(sw, m), sy[0]);
        if (scales.Any(s => !float.IsFinite(s) || s <= 0)) return null;
        if (QuantizationConstants.Int32Bias(c, 8, m) is not { } bias) return null;
        var outType = c.InputType(7);
        var clamp = QuantizationConstants.Clamp(outType, zy[0], sy[0], c.Float("activation_min", float.NegativeInfinity), c.Float("activation_max", float.PositiveInfinity));
        var kind = outType == DataType.Int8 ? QGemmOutputKind.Int8 : QGemmOutputKind.UInt8;
        bool depthwise = group == shape.InChannels && m == group && symmetric && signedInput == (outType == DataType.Int8);
        // Few input channels under a real window (a stem): the direct kernel, where it has a vector path; 1x1 kernels
        // are GEMMs already, and im2col + QGEMM is the faster choice elsewhere.
        bool direct = !depthwise && symmetric && shape.KernelHeight * shape.KernelWidth > 1 && signedInput == (outType == DataType.Int8) && QConvDirect.Supports(shape)
            && QConvDirect.IsVectorized(c.Resources.Table);
        return new Int8ConvKernel(c, shape, weights, depthwise, direct, signedInput, zx[0], kind, scales, bias, weightZeroPoints, clamp);
    }

    public bool CanReadNhwc => true;
    public bool CanWriteNhwc => _kind != QGemmOutputKind.Int32;
    public void ReadNhwc() => _readNhwc = true;
    public void WriteNhwc() => _writeNhwc = true;

    /// <summary>The NHWC image the kernels read: the input tensor itself when the producer wrote NHWC.</summary>
    private Span<byte> In => _readNhwc ? _x!.Bytes : _input;

    /// <summary>The NHWC result the kernels write: the output tensor itself when the consumer reads NHWC.</summary>
    private Span<byte> Out => _writeNhwc ? _y!.Bytes : _output;

    public override void Run(Tensor?[] inputs, Tensor[] outputs)
    {
        var s = _shape;
        int inPixels = s.Height * s.Width, outPixels = s.OutHeight * s.OutWidth;
        _x = inputs[0]!;
        _y = outputs[0];
        if (!_readNhwc)
        {
            _input ??= new byte[_inputBytes];
            NhwcLayout.ToNhwc<byte>(_x.Bytes, _input, s.Batch, s.InChannels, inPixels);
        }
        if (!_writeNhwc) _output ??= new byte[_outputBytes];
        if (_depthwise is not null) _depthwise.Run();
        else if (_direct is not null) _direct.Run();
        else
        {
            var input = _signedInput
                ? QGemmInput.Int8(MemoryMarshal.Cast<byte, sbyte>(In), s.Batch * inPixels, s.InChannels, _inputZeroPoint)
                : QGemmInput.UInt8(In, s.Batch * inPixels, s.InChannels, _inputZeroPoint);
            var output = _kind switch
            {
                QGemmOutputKind.Int32 => QGemmOutput.Int32(MemoryMarshal.Cast<byte, int>(Out), s.OutChannels),
                QGemmOutputKind.Int8 => QGemmOutput.Int8(MemoryMarshal.Cast<byte, sbyte>(Out), s.OutChannels, _scales, _clamp.ZeroPoint, _clamp.Min, _clamp.Max),
                _ => QGemmOutput.UInt8(Out, s.OutChannels, _scales, _clamp.ZeroPoint, _clamp.Min, _clamp.Max),
            };
            _conv!.Run(input, output, _scratch, _bias, _weightZeroPoints, _pool);
        }
        if (!_writeNhwc)
        {
            if (_kind == QGemmOutputKind.Int32)
                NhwcLayout.ToNchw<int>(MemoryMarshal.Cast<byte, int>(_output.AsSpan()), _y.Span<int>(), s.Batch, s.OutChannels, outPixels);
            else
                NhwcLayout.ToNchw<byte>(_output, _y.Bytes, s.Batch, s.OutChannels, outPixels);
        }
        _x = _y = null;
    }

    /// <summary>Runs the direct kernel over all Batch x OutHeight output rows, split over the session's threads.</summary>
    private sealed class DirectRows(Int8ConvKernel owner) : IParallelWork
    {
        private int _chunks;

        public void Run()
        {
            var s = owner._shape;
            int rows = s.Batch * s.OutHeight;
            var pool = owner._pool;
            _chunks = pool is null ? 1 : Math.Min(rows, pool.ThreadCount * 2);
            if (_chunks <= 1) Execute(0);
            else pool!.Run(this, _chunks);
        }

        public void Execute(int index)
        {
            var s = owner._shape;
            int rows = s.Batch * s.OutHeight;
            int r0 = (int)((long)rows * index / _chunks), r1 = (int)((long)rows * (index + 1) / _chunks);
            if (r1 <= r0) return;
            var conv = owner._directConv!;
            if (owner._signedInput)
                conv.Run(MemoryMarshal.Cast<byte, sbyte>(owner.In), owner._inputZeroPoint, owner._bias, owner._scales, owner._clamp,
                    MemoryMarshal.Cast<byte, sbyte>(owner.Out), r0, r1 - r0);
            else
                conv.Run((ReadOnlySpan<byte>)owner.In, owner._inputZeroPoint, owner._bias, owner._scales, owner._clamp, owner.Out, r0, r1 - r0);
        }
    }

    /// <summary>Runs the depthwise kernel image by image, output rows split over the session's threads.</summary>
    private sealed class DepthwiseRows(Int8ConvKernel owner) : IParallelWork
    {
        private readonly WindowGeometry _geometry = new(owner._shape.Height, owner._shape.Width, owner._shape.KernelHeight, owner._shape.KernelWidth,
            owner._shape.StrideHeight, owner._shape.StrideWidth, owner._shape.PadTop, owner._shape.PadLeft, owner._shape.PadBottom, owner._shape.PadRight,
            owner._shape.DilationHeight, owner._shape.DilationWidth);
        private int _image, _chunks;

        public void Run()
        {
            var s = owner._shape;
            int rows = s.OutHeight;
            var pool = owner._pool;
            _chunks = pool is null ? 1 : Math.Min(rows, pool.ThreadCount * 2);
            for (_image = 0; _image < s.Batch; _image++)
            {
                if (_chunks <= 1) Execute(0);
                else pool!.Run(this, _chunks);
            }
        }

        public void Execute(int index)
        {
            var s = owner._shape;
            int rows = s.OutHeight;
            int r0 = (int)((long)rows * index / _chunks), r1 = (int)((long)rows * (index + 1) / _chunks);
            if (r1 <= r0) return;
            int inImage = s.Height * s.Width * s.InChannels, outImage = s.OutHeight * s.OutWidth * s.OutChannels;
            var input = owner.In.Slice(_image * inImage, inImage);
            var output = owner.Out.Slice(_image * outImage, outImage);
            if (owner._signedInput)
                owner._table.DepthwiseConv(_geometry, s.InChannels, MemoryMarshal.Cast<byte, sbyte>(input), owner._inputZeroPoint,
                    owner._depthwiseWeights!, owner._bias, owner._scales, owner._clamp, MemoryMarshal.Cast<byte, sbyte>(output), r0, r1 - r0);
            else
                owner._table.DepthwiseConv(_geometry, s.InChannels, (ReadOnlySpan<byte>)input, owner._inputZeroPoint,
                    owner._depthwiseWeights!, owner._bias, owner._scales, owner._clamp, output, r0, r1 - r0);
        }
    }
}
