namespace EdgeAgent.Bench.Continual;

/// <summary>The operating conditions of a machine: what changes at a regime change.</summary>
internal sealed record Regime(string Name, double RotationHz, double MountingDegrees, double[] AxisGain, double[] SensorBias, double Noise);

/// <summary>
/// Simulated 3-axis accelerometer on a rotating machine, 1 kHz, windows of 256 samples. Four states:
/// 0 healthy (1× rotation, small), 1 unbalance (strong 1× radial), 2 misalignment (strong 2× and
/// axial 1×), 3 bearing outer-race fault (impacts at 3.6× rotation exciting a 180 Hz resonance).
/// A regime sets speed, sensor mounting (rotation of the radial axes), gains and bias; all of them
/// move the inputs without changing what each state is.
/// </summary>
internal sealed class VibrationSource(int seed)
{
    public const int Axes = 3;
    public const int Window = 256;
    public const double SampleHz = 1000;
    public const int States = 4;
    public static readonly string[] StateNames = ["healthy", "unbalance", "misalignment", "bearing-fault"];

    private readonly Random _random = new(seed);

    public float[] Sample(int state, Regime regime)
    {
        var raw = new double[Axes, Window];
        double w = 2 * Math.PI * regime.RotationHz * (0.97 + 0.06 * _random.NextDouble());
        double phase = _random.NextDouble() * 2 * Math.PI;
        double severity = 0.7 + 0.6 * _random.NextDouble();
        for (int i = 0; i < Window; i++)
        {
            double t = i / SampleHz;
            double x = 0.2 * Math.Sin(w * t + phase), y = 0.2 * Math.Cos(w * t + phase), z = 0.05 * Math.Sin(2 * w * t);
            switch (state)
            {
                case 1:
                    x += severity * Math.Sin(w * t + phase); y += severity * Math.Cos(w * t + phase);
                    break;
                case 2:
                    x += 0.6 * severity * Math.Sin(2 * w * t + phase); y += 0.6 * severity * Math.Cos(2 * w * t + 2 * phase);
                    z += 0.8 * severity * Math.Sin(w * t + phase);
                    break;
            }
            raw[0, i] = x; raw[1, i] = y; raw[2, i] = z;
        }
        if (state == 3)
        {
            double period = SampleHz / (3.6 * regime.RotationHz);
            for (double at = _random.NextDouble() * period; at < Window; at += period)
                for (int k = 0; k < 40 && (int)at + k < Window; k++)
                {
                    double ring = severity * 1.2 * Math.Exp(-k / 8.0) * Math.Sin(2 * Math.PI * 180 * k / SampleHz);
                    raw[0, (int)at + k] += ring; raw[1, (int)at + k] += 0.7 * ring; raw[2, (int)at + k] += 0.4 * ring;
                }
        }
        var sample = new float[Axes * Window];
        double a = regime.MountingDegrees * Math.PI / 180, cos = Math.Cos(a), sin = Math.Sin(a);
        for (int i = 0; i < Window; i++)
        {
            double x = cos * raw[0, i] - sin * raw[1, i], y = sin * raw[0, i] + cos * raw[1, i], z = raw[2, i];
            double[] v = [x, y, z];
            for (int axis = 0; axis < Axes; axis++)
                sample[axis * Window + i] = (float)(regime.AxisGain[axis] * v[axis] + regime.SensorBias[axis] + regime.Noise * Gaussian());
        }
        return sample;
    }

    public (float[] X, int[] Y) Batch(int perState, Regime regime)
    {
        var x = new float[perState * States * Axes * Window];
        var y = new int[perState * States];
        var order = Enumerable.Range(0, perState * States).ToArray();
        _random.Shuffle(order);
        foreach (int k in order)
        {
            int state = k % States;
            Sample(state, regime).CopyTo(x, k * Axes * Window);
            y[k] = state;
        }
        return (x, y);
    }

    private double Gaussian() => Math.Sqrt(-2 * Math.Log(1 - _random.NextDouble())) * Math.Cos(2 * Math.PI * _random.NextDouble());
}
