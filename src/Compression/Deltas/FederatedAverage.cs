using EdgeAgent.Compression.Bundles;

namespace EdgeAgent.Compression.Deltas;

/// <summary>
/// Federated averaging (McMahan et al., 2017) of device updates to one base model: each device's
/// trainable layers are reconstructed from its delta, dequantized, averaged weighted by the number of
/// samples behind each update, and requantized per channel.
/// </summary>
public static class FederatedAverage
{
    /// <param name="baseTensors">The base model's trainable tensors.</param>
    /// <param name="baseModelSha256">SHA-256 of the base model; every delta must be bound to it.</param>
    /// <param name="deltas">Verified deltas from devices.</param>
    /// <param name="layers">Which tensors form quantized layers; other float tensors are averaged as they
    /// are, and other integer tensors (zero points) must not differ between devices.</param>
    public static IReadOnlyList<WeightTensor> Average(IReadOnlyList<WeightTensor> baseTensors, string baseModelSha256,
                                                      IReadOnlyList<WeightDelta> deltas, IReadOnlyList<QuantizedLayer> layers)
    {
        if (deltas.Count == 0) throw new ArgumentException("no deltas to average");
        foreach (var d in deltas)
        {
            if (!string.Equals(d.Metadata.BaseModelSha256, baseModelSha256, StringComparison.OrdinalIgnoreCase))
                throw new BundleFormatException("delta.metadata.baseModelSha256",
                    $"delta from '{d.Metadata.Producer}' is for base {d.Metadata.BaseVersion} ({d.Metadata.BaseModelSha256[..16]}…), not the base being averaged");
        }
        var baseByName = baseTensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var devices = deltas.Select(d =>
        {
            var updated = d.Apply(baseTensors, baseModelSha256).ToDictionary(t => t.Name, StringComparer.Ordinal);
            // Tensors a delta does not mention are unchanged from the base.
            foreach (var t in baseTensors) updated.TryAdd(t.Name, t);
            return updated;
        }).ToList();
        double total = deltas.Sum(d => (double)d.Metadata.SampleCount);
        var weights = deltas.Select(d => d.Metadata.SampleCount / total).ToArray();

        var result = new Dictionary<string, WeightTensor>(StringComparer.Ordinal);
        foreach (var layer in layers)
        {
            double[]? w = null, b = null;
            for (int i = 0; i < devices.Count; i++)
            {
                var (dw, db) = layer.Dequantize(devices[i]);
                Accumulate(ref w, dw, weights[i]);
                if (db is not null) Accumulate(ref b, db, weights[i]);
            }
            var wf = w!.Select(v => (float)v).ToArray();
            var bf = b?.Select(v => (float)v).ToArray() ?? [];
            foreach (var t in layer.Requantize(baseByName, wf, bf)) result[t.Name] = t;
        }

        var bound = new HashSet<string>(layers.SelectMany(l => l.TensorNames()), StringComparer.Ordinal);
        foreach (var t in baseTensors)
        {
            if (bound.Contains(t.Name)) continue;
            if (t.ElementType == WeightElementType.Float32)
            {
                double[]? acc = null;
                for (int i = 0; i < devices.Count; i++) Accumulate(ref acc, devices[i][t.Name].AsFloats().ToArray(), weights[i]);
                result[t.Name] = WeightTensor.FromFloats(t.Name, t.Shape, acc!.Select(v => (float)v).ToArray());
            }
            else
            {
                var first = devices[0][t.Name];
                for (int i = 1; i < devices.Count; i++)
                {
                    if (!devices[i][t.Name].Data.AsSpan().SequenceEqual(first.Data))
                        throw new ArgumentException($"integer tensor '{t.Name}' differs between devices and is not part of a quantized layer, so it cannot be averaged");
                }
                result[t.Name] = first;
            }
        }
        return baseTensors.Select(t => result[t.Name]).ToList();
    }

    private static void Accumulate(ref double[]? sum, ReadOnlySpan<float> values, double weight)
    {
        sum ??= new double[values.Length];
        if (sum.Length != values.Length) throw new ArgumentException("devices disagree on a tensor's size");
        for (int i = 0; i < values.Length; i++) sum[i] += weight * values[i];
    }
}
