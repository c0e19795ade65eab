namespace EdgeAgent.Compression.Evaluation;

/// <summary>
/// Signal-to-quantization-noise ratio accumulated over many samples:
/// 10·log10(Σ reference² / Σ (reference − test)²), in dB.
/// </summary>
public sealed class Sqnr
{
    private double _signal, _noise;

    /// <summary>Values compared so far.</summary>
    public long Count { get; private set; }

    public void Add(ReadOnlySpan<float> reference, ReadOnlySpan<float> test)
    {
        if (reference.Length != test.Length) throw new ArgumentException($"{reference.Length} reference values against {test.Length}");
        Count += reference.Length;
        for (int i = 0; i < reference.Length; i++)
        {
            double r = reference[i], d = r - test[i];
            _signal += r * r;
            _noise += d * d;
        }
    }

    /// <summary>The ratio in dB; +∞ when the two agree exactly.</summary>
    public double Decibels => _noise == 0 ? double.PositiveInfinity : 10 * Math.Log10(_signal / _noise);
}
