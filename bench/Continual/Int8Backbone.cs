using EdgeAgent.Runtime.Training;

namespace EdgeAgent.Bench.Continual;

/// <summary>
/// The frozen backbone as the device runs it, simulated exactly in float: batch normalisation folded
/// into the convolution before it, weights s8 symmetric per output channel, and every activation
/// after a ReLU/Clip rounded to u8 with a per-tensor scale calibrated (max) on calibration data.
/// (The product's quantizer lives in src/Compression; this is the bench's stand-in.)
/// </summary>
internal sealed class Int8Backbone
{
    private readonly Network _network;
    private readonly float[] _activationScale;

    private Int8Backbone(Network network, float[] activationScale)
    {
        _network = network;
        _activationScale = activationScale;
    }

    public int[] InputShape => _network.InputShape;
    public int EmbeddingSize => _network.OutputSize;

    public static Int8Backbone Quantize(Network floatBackbone, float[] calibration, int calibrationCount)
    {
        var layers = new List<Layer>();
        var source = floatBackbone.Layers;
        for (int i = 0; i < source.Count; i++)
        {
            var layer = source[i].Clone();
            if (i + 1 < source.Count && source[i + 1] is BatchNorm bn)
            {
                Fold(layer, bn);
                i++;
            }
            layers.Add(layer);
        }
        var folded = new Network(floatBackbone.InputShape, layers);
        foreach (var layer in folded.Layers)
        {
            var w = layer switch { Conv2d c => c.Weight, Conv1d c => c.Weight, Dense d => d.Weight, _ => null };
            if (w is null) continue;
            int channels = w.Shape[0], per = w.Length / channels;
            for (int c = 0; c < channels; c++)
            {
                var row = w.Value.AsSpan(c * per, per);
                float max = 0;
                foreach (float v in row) max = MathF.Max(max, MathF.Abs(v));
                float scale = max > 0 ? max / 127f : 1f;
                foreach (ref float v in row) v = Math.Clamp(MathF.Round(v / scale), -127, 127) * scale;
            }
        }
        var scales = new float[folded.Layers.Count];
        folded.Training = false;
        int size = folded.InputSize;
        for (int start = 0; start < calibrationCount; start += 256)
        {
            int n = Math.Min(256, calibrationCount - start);
            var x = new TrainingTensor(calibration.AsSpan(start * size, n * size).ToArray(), [n, .. folded.InputShape]);
            for (int l = 0; l < folded.Layers.Count; l++)
            {
                x = folded.Layers[l].Forward(x);
                if (folded.Layers[l] is Relu or Clip)
                    foreach (float v in x.Span) scales[l] = MathF.Max(scales[l], v / 255f);
            }
        }
        return new Int8Backbone(folded, scales);
    }

    private static void Fold(Layer layer, BatchNorm bn)
    {
        var (weight, bias) = layer switch
        {
            Conv2d c => (c.Weight, c.Bias),
            Conv1d c => (c.Weight, c.Bias),
            _ => throw new InvalidOperationException($"cannot fold BatchNorm '{bn.Name}' into '{layer.Name}'"),
        };
        if (bias is null) throw new InvalidOperationException($"'{layer.Name}' needs a bias to fold BatchNorm into");
        int channels = weight.Shape[0], per = weight.Length / channels;
        for (int c = 0; c < channels; c++)
        {
            float g = bn.Scale.Value[c] / MathF.Sqrt(bn.RunningVar[c] + bn.Epsilon);
            foreach (ref float v in weight.Value.AsSpan(c * per, per)) v *= g;
            bias.Value[c] = (bias.Value[c] - bn.RunningMean[c]) * g + bn.Shift.Value[c];
        }
    }

    /// <summary>Embeddings of <paramref name="count"/> inputs stored back to back.</summary>
    public float[] Embed(ReadOnlySpan<float> inputs, int count)
    {
        int size = _network.InputSize, outSize = _network.OutputSize;
        var result = new float[count * outSize];
        var buffer = new float[Math.Min(256, count) * size];
        for (int start = 0; start < count; start += 256)
        {
            int n = Math.Min(256, count - start);
            inputs.Slice(start * size, n * size).CopyTo(buffer);
            // Inputs are u8 pixels (or sensor codes) already; activations are rounded after each ReLU.
            var x = new TrainingTensor(buffer, [n, .. _network.InputShape]);
            for (int l = 0; l < _network.Layers.Count; l++)
            {
                x = _network.Layers[l].Forward(x);
                float s = _activationScale[l];
                if (s > 0)
                    foreach (ref float v in x.Span) v = MathF.Min(MathF.Round(v / s), 255f) * s;
            }
            x.Span.CopyTo(result.AsSpan(start * outSize));
        }
        return result;
    }
}
