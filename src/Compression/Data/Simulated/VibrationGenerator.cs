namespace EdgeAgent.Compression.Data.Simulated;

/// <summary>
/// A deterministic 3-axis accelerometer signal (in g) of a rotating machine: the regime sets the spectral
/// signature, on top come Gaussian sensor noise, a slow bias drift and small run-to-run variation of speed
/// and amplitude, so that a classifier has to learn the signature rather than memorise a waveform. The same
/// seed and rate give the same samples, which the tests and the demo's training data rely on.
/// </summary>
public sealed class VibrationGenerator
{
    private const double BpfoOrder = 3.58;       // outer-race defect frequency, in orders of shaft speed
    private const double ImpactDecaySeconds = 0.004;

    private readonly double _sampleRateHz;
    private readonly double _noiseG;
    private readonly double _driftGPerSecond;
    private readonly double _resonanceHz;
    private ulong _rng;
    private long _sampleIndex;
    private double _shaftHz;
    private double _amplitude;
    private double _phase;
    private double _lastImpactTime = double.NegativeInfinity;
    private double _nextImpactTime;

    public VibrationGenerator(double sampleRateHz, int seed, double noiseG, double driftGPerHour)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(sampleRateHz, 0);
        _sampleRateHz = sampleRateHz;
        _noiseG = noiseG;
        _driftGPerSecond = driftGPerHour / 3600.0;
        _resonanceHz = Math.Min(0.3 * sampleRateHz, 2000);
        _rng = (ulong)(uint)seed * 0x9E3779B97F4A7C15UL + 0x2545F4914F6CDD1DUL;
        SetRegime(VibrationRegime.Normal);
    }

    public VibrationRegime Regime { get; private set; }

    public static IReadOnlyList<string> ChannelNames { get; } = ["accel_x_g", "accel_y_g", "accel_z_g"];

    /// <summary>Switches the machine state; shaft speed and amplitude vary ±10% between regimes, as they do between runs.</summary>
    public void SetRegime(VibrationRegime regime)
    {
        Regime = regime;
        _shaftHz = 24.0 * (0.9 + 0.2 * NextUniform());   // ~1450 rpm
        _amplitude = 0.9 + 0.2 * NextUniform();
        _phase = 2 * Math.PI * NextUniform();
        _nextImpactTime = Time;
    }

    private double Time => _sampleIndex / _sampleRateHz;

    /// <summary>Writes the next sample's x, y, z acceleration in g.</summary>
    public void Next(Span<float> xyz)
    {
        double t = Time;
        double w = 2 * Math.PI * _shaftHz * t + _phase;
        double a = _amplitude;
        double x = 0, y = 0, z = 0;
        switch (Regime)
        {
            case VibrationRegime.Idle:
                break;
            case VibrationRegime.Normal:
                x = 0.05 * a * Math.Sin(w) + 0.02 * a * Math.Sin(2 * w + 0.3);
                y = 0.05 * a * Math.Cos(w) + 0.02 * a * Math.Cos(2 * w + 0.3);
                z = 0.01 * a * Math.Sin(w);
                break;
            case VibrationRegime.Imbalance:
                x = 0.45 * a * Math.Sin(w) + 0.02 * a * Math.Sin(2 * w);
                y = 0.45 * a * Math.Cos(w) + 0.02 * a * Math.Cos(2 * w);
                z = 0.03 * a * Math.Sin(w);
                break;
            case VibrationRegime.Misalignment:
                x = 0.12 * a * Math.Sin(w) + 0.30 * a * Math.Sin(2 * w + 0.7);
                y = 0.12 * a * Math.Cos(w) + 0.30 * a * Math.Cos(2 * w + 0.7);
                z = 0.35 * a * Math.Sin(2 * w + 1.9);
                break;
            case VibrationRegime.BearingFault:
                if (t >= _nextImpactTime)
                {
                    _lastImpactTime = t;
                    double period = 1.0 / (BpfoOrder * _shaftHz);
                    _nextImpactTime = t + period * (0.97 + 0.06 * NextUniform()); // slip: bearings never tick exactly
                }
                double since = t - _lastImpactTime;
                double ring = 0.9 * a * Math.Exp(-since / ImpactDecaySeconds) * Math.Sin(2 * Math.PI * _resonanceHz * since);
                x = 0.05 * a * Math.Sin(w) + ring;
                y = 0.05 * a * Math.Cos(w) + 0.6 * ring;
                z = 0.3 * ring;
                break;
        }
        double bias = _driftGPerSecond * t;
        xyz[0] = (float)(x + bias + _noiseG * NextGaussian());
        xyz[1] = (float)(y + bias + _noiseG * NextGaussian());
        xyz[2] = (float)(1.0 + z + bias + _noiseG * NextGaussian()); // gravity on the vertical axis
        _sampleIndex++;
    }

    private double NextUniform()
    {
        // xorshift64*: fast, allocation-free and reproducible across platforms.
        _rng ^= _rng >> 12;
        _rng ^= _rng << 25;
        _rng ^= _rng >> 27;
        return ((_rng * 0x2545F4914F6CDD1DUL) >> 11) * (1.0 / (1UL << 53));
    }

    private double NextGaussian()
    {
        double u1 = Math.Max(NextUniform(), 1e-300);
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * NextUniform());
    }
}
