using System.Runtime.InteropServices;
using EdgeAgent.Kernels;
using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Ops;

/// <summary>
/// QLinearGlobalAveragePool as <see cref="Execution.QdqFusion"/> creates it from DequantizeLinear → GlobalAveragePool →
/// QuantizeLinear: inputs X (u8/s8, N x C x spatial...), X scale, X zero point, Y scale, Y zero point, all per tensor;
/// output N x C x 1 x ... . Runs the int8 global-pool kernel on NHWC; when the producer hands over NHWC (an int8
/// convolution) nothing is transposed, and the N x C x 1 x 1 result is the same bytes in either layout.
/// </summary>
internal sealed class Int8GlobalPoolKernel : OpKernel, Execution.INhwcKernel
{
    private readonly KernelTable _table;
    private readonly int _batch, _channels, _spatial;
    private readonly bool _signed;
    private readonly int _inputZeroPoint;
    private readonly float _inputScale, _outputScale;
    private readonly QuantizedOutput _output;
    private byte[]? _nhwc;
    private bool _readNhwc;

    private Int8GlobalPoolKernel(KernelTable table, int[] shape, bool signed, int inputZeroPoint, float inputScale, float outputScale, QuantizedOutput output)
    {
        _table = table;
        _batch = shape[0];
        _channels = shape[1];
        _spatial = 1;
        for (int d = 2; d < shape.Length; d++) _spatial *= shape[d];
        _signed = signed;
        _inputZeroPoint = inputZeroPoint;
        _inputScale = inputScale;
        _outputScale = outputScale;
        _output = output;
    }

    public override string Path => $"global-avgpool-int8.{_table.Name}";

    public bool CanReadNhwc => true;
    public bool CanWriteNhwc => true;
    public void ReadNhwc() => _readNhwc = true;
    public void WriteNhwc() { } // N x C x 1 x 1: NCHW and NHWC are the same bytes.

    public static void Register(Dictionary<string, OpCompiler> ops) => ops["QLinearGlobalAveragePool"] = Compile;

    private static OpKernel Compile(CompileContext c)
    {
        c.RequireType(0, DataType.UInt8, DataType.Int8);
        var x = c.InputShape(0);
        if (x.Length < 3) throw c.Error("input #0 'X'", $"rank {x.Length} is below 3 (N, C, spatial...)");
        var outShape = new int[x.Length];
        outShape[0] = x[0];
        outShape[1] = x[1];
        for (int d = 2; d < x.Length; d++) outShape[d] = 1;
        var type = c.InputType(0);
        if (c.InputType(4) != type) throw c.Error("input #4 (Y zero point)", $"type {c.InputType(4).ToName()} differs from X's {type.ToName()}");
        c.SetOutput(0, type, outShape);
        var sx = QuantizationConstants.Scales(c, 1, 1) ?? throw c.Error("input #1 (X scale)", "must be one positive constant");
        var zx = QuantizationConstants.ZeroPoints(c, 2, 1) ?? throw c.Error("input #2 (X zero point)", "must be one constant");
        var sy = QuantizationConstants.Scales(c, 3, 1) ?? throw c.Error("input #3 (Y scale)", "must be one positive constant");
        var zy = QuantizationConstants.ZeroPoints(c, 4, 1) ?? throw c.Error("input #4 (Y zero point)", "must be one constant");
        if (ConvGeometry.Product(x) == 0) throw c.Error("input #0 'X'", "is empty");
        bool signed = type == DataType.Int8;
        var output = signed ? QuantizedOutput.S8(zy[0]) : QuantizedOutput.U8(zy[0]);
        return new Int8GlobalPoolKernel(c.Resources.Table, x, signed, zx[0], sx[0], sy[0], output);
    }

    public override void Run(Tensor?[] inputs, Tensor[] outputs)
    {
        var x = inputs[0]!.Bytes;
        var y = outputs[0].Bytes;
        int image = _channels * _spatial;
        if (!_readNhwc)
        {
            _nhwc ??= new byte[_batch * image];
            NhwcLayout.ToNhwc<byte>(x, _nhwc, _batch, _channels, _spatial);
            x = _nhwc;
        }
        for (int n = 0; n < _batch; n++)
        {
            var src = x.Slice(n * image, image);
            var dst = y.Slice(n * _channels, _channels);
            if (_signed)
                _table.GlobalAveragePool(_spatial, _channels, MemoryMarshal.Cast<byte, sbyte>(src), _inputZeroPoint, _inputScale, _outputScale,
                    _output, MemoryMarshal.Cast<byte, sbyte>(dst), 0, _channels);
            else
                _table.GlobalAveragePool(_spatial, _channels, (ReadOnlySpan<byte>)src, _inputZeroPoint, _inputScale, _outputScale, _output, dst, 0, _channels);
        }
    }
}
