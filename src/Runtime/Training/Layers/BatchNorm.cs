namespace EdgeAgent.Runtime.Training;

/// <summary>
/// Batch normalisation over the channel axis of [C, ...] samples (ONNX BatchNormalization). In
/// training it normalises with the batch's statistics and updates the running ones
/// (running = (1 − momentum)·running + momentum·batch, unbiased variance); otherwise it uses the running
/// statistics, which is also what backward differentiates through when the layer is frozen in eval mode.
/// </summary>
public sealed class BatchNorm : Layer
{
    private TrainingTensor? _input, _output, _inputGradient;
    private float[] _batchMean = [], _batchInvStd = [];
    private bool _usedBatchStats;

    public BatchNorm(int channels, float epsilon = 1e-5f, float momentum = 0.1f)
    {
        if (channels <= 0) throw new ArgumentOutOfRangeException(nameof(channels));
        Channels = channels; Epsilon = epsilon; Momentum = momentum;
        Scale = new Parameter("scale", [channels]);
        Shift = new Parameter("bias", [channels]);
        RunningMean = new float[channels];
        RunningVar = new float[channels];
        Array.Fill(Scale.Value, 1f);
        Array.Fill(RunningVar, 1f);
    }

    public int Channels { get; }
    public float Epsilon { get; }
    public float Momentum { get; }
    public Parameter Scale { get; }
    public Parameter Shift { get; }
    public float[] RunningMean { get; }
    public float[] RunningVar { get; }

    public override string OpType => "BatchNormalization";
    public override IReadOnlyList<Parameter> Parameters => [Scale, Shift];

    public override int[] OutputShape(int[] inputShape)
    {
        if (inputShape.Length < 1 || inputShape[0] != Channels) throw ShapeError(inputShape, $"[{Channels}, ...]");
        return inputShape;
    }

    public override void Initialize(Random random)
    {
        Array.Fill(Scale.Value, 1f);
        Array.Clear(Shift.Value);
        Array.Clear(RunningMean);
        Array.Fill(RunningVar, 1f);
    }

    public override TrainingTensor Forward(TrainingTensor input)
    {
        OutputShape(input.Shape[1..]);
        int batch = input.Batch, area = input.SampleSize / Channels;
        var y = TrainingTensor.Ensure(ref _output, batch, input.Shape.AsSpan(1));
        if (_batchMean.Length != Channels) { _batchMean = new float[Channels]; _batchInvStd = new float[Channels]; }
        _usedBatchStats = Training && batch * area > 1;
        var x = input.Span;
        var ys = y.Span;
        for (int c = 0; c < Channels; c++)
        {
            float mean, invStd;
            if (_usedBatchStats)
            {
                double sum = 0, sq = 0;
                for (int n = 0; n < batch; n++)
                    foreach (float v in x.Slice((n * Channels + c) * area, area)) { sum += v; sq += (double)v * v; }
                int count = batch * area;
                double m = sum / count, variance = Math.Max(0, sq / count - m * m);
                mean = (float)m;
                invStd = 1f / MathF.Sqrt((float)variance + Epsilon);
                RunningMean[c] = (1 - Momentum) * RunningMean[c] + Momentum * mean;
                RunningVar[c] = (1 - Momentum) * RunningVar[c] + Momentum * (float)(variance * count / (count - 1));
            }
            else
            {
                mean = RunningMean[c];
                invStd = 1f / MathF.Sqrt(RunningVar[c] + Epsilon);
            }
            _batchMean[c] = mean;
            _batchInvStd[c] = invStd;
            float g = Scale.Value[c] * invStd, b = Shift.Value[c] - mean * g;
            for (int n = 0; n < batch; n++)
            {
                int o = (n * Channels + c) * area;
                for (int i = 0; i < area; i++) ys[o + i] = x[o + i] * g + b;
            }
        }
        _input = Training ? input : null;
        return y;
    }

    public override TrainingTensor? Backward(TrainingTensor outputGradient, bool needInputGradient)
    {
        var x = RequireForward(_input);
        int batch = x.Batch, area = x.SampleSize / Channels, count = batch * area;
        var dy = outputGradient.Span;
        var xs = x.Span;
        TrainingTensor? dx = needInputGradient ? TrainingTensor.Ensure(ref _inputGradient, batch, x.Shape.AsSpan(1)) : null;
        for (int c = 0; c < Channels; c++)
        {
            float mean = _batchMean[c], invStd = _batchInvStd[c];
            double sumDy = 0, sumDyXhat = 0;
            for (int n = 0; n < batch; n++)
            {
                int o = (n * Channels + c) * area;
                for (int i = 0; i < area; i++) { sumDy += dy[o + i]; sumDyXhat += dy[o + i] * (xs[o + i] - mean) * invStd; }
            }
            Shift.Grad[c] += (float)sumDy;
            Scale.Grad[c] += (float)sumDyXhat;
            if (dx is null) continue;
            float gamma = Scale.Value[c];
            var d = dx.Span;
            if (!_usedBatchStats)
            {
                for (int n = 0; n < batch; n++)
                {
                    int o = (n * Channels + c) * area;
                    for (int i = 0; i < area; i++) d[o + i] = dy[o + i] * gamma * invStd;
                }
                continue;
            }
            // dx = γ·σ⁻¹/M · (M·dy − Σdy − x̂·Σ(dy·x̂)): the batch mean and variance depend on every x.
            float k = gamma * invStd / count, mDy = (float)sumDy, mDyX = (float)sumDyXhat;
            for (int n = 0; n < batch; n++)
            {
                int o = (n * Channels + c) * area;
                for (int i = 0; i < area; i++)
                {
                    float xhat = (xs[o + i] - mean) * invStd;
                    d[o + i] = k * (count * dy[o + i] - mDy - xhat * mDyX);
                }
            }
        }
        return dx;
    }

    public override Layer Clone()
    {
        var copy = new BatchNorm(Channels, Epsilon, Momentum) { Name = Name };
        copy.Scale.CopyFrom(Scale);
        copy.Shift.CopyFrom(Shift);
        RunningMean.CopyTo(copy.RunningMean, 0);
        RunningVar.CopyTo(copy.RunningVar, 0);
        return copy;
    }

    internal override string Export(OnnxGraphBuilder graph, string input)
    {
        string s = graph.Constant(Name + ".scale", [Channels], Scale.Value);
        string b = graph.Constant(Name + ".bias", [Channels], Shift.Value);
        string m = graph.Constant(Name + ".mean", [Channels], RunningMean);
        string v = graph.Constant(Name + ".var", [Channels], RunningVar);
        // ONNX's momentum weighs the running value, PyTorch's (ours) the batch value.
        return graph.Node("BatchNormalization", Name, [input, s, b, m, v],
            OnnxAttributeSpec.Of("epsilon", Epsilon), OnnxAttributeSpec.Of("momentum", 1f - Momentum));
    }
}
