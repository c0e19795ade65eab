using EdgeAgent.Daemon.Configuration;

namespace EdgeAgent.Daemon.Sensors.Gpio;

/// <summary>
/// Drives GPIO outputs (LEDs, relays) from inference results with two kinds of hysteresis: a score band (on at
/// or above <c>onScore</c> for the output's class, off below <c>offScore</c> or when another class is stable)
/// and a minimum hold time, so a relay never chatters on a borderline signal.
/// </summary>
public sealed class OutputController
{
    private readonly IGpioLines _lines;
    private readonly TimeProvider _time;
    private readonly Output[] _outputs;

    public OutputController(IGpioLines lines, IReadOnlyList<GpioOutputOptions> outputs, IReadOnlyList<string> classNames, TimeProvider time)
    {
        _lines = lines;
        _time = time;
        _outputs = outputs.Select(o => new Output(o, IndexOf(classNames, o.Class))).ToArray();
        foreach (var output in _outputs) _lines.OpenOutput(output.Options.Pin, output.Options.ActiveLow);
    }

    /// <summary>Classes named by outputs that the model does not have: such outputs stay off.</summary>
    public IEnumerable<string> UnknownClasses => _outputs.Where(o => o.ClassIndex < 0).Select(o => o.Options.Class);

    public bool IsOn(int pin) => _outputs.First(o => o.Options.Pin == pin).On;

    /// <summary>Re-maps class names after a model change (a class-incremental update may add classes).</summary>
    public void SetClasses(IReadOnlyList<string> classNames)
    {
        foreach (var output in _outputs) output.ClassIndex = IndexOf(classNames, output.Options.Class);
    }

    public void Update(int stableClass, float stableScore)
    {
        long now = _time.GetTimestamp();
        foreach (var output in _outputs)
        {
            bool mine = output.ClassIndex >= 0 && stableClass == output.ClassIndex;
            bool want = output.On
                ? mine && stableScore >= output.Options.OffScore
                : mine && stableScore >= output.Options.OnScore;
            if (want == output.On) continue;
            if (output.ChangedAt != 0 && _time.GetElapsedTime(output.ChangedAt, now).TotalMilliseconds < output.Options.MinHoldMs) continue;
            output.On = want;
            output.ChangedAt = now;
            _lines.Write(output.Options.Pin, want != output.Options.ActiveLow);
        }
    }

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (int i = 0; i < names.Count; i++)
            if (names[i].Equals(name, StringComparison.OrdinalIgnoreCase)) return i;
        return -1;
    }

    private sealed class Output(GpioOutputOptions options, int classIndex)
    {
        public GpioOutputOptions Options { get; } = options;
        public int ClassIndex { get; set; } = classIndex;
        public bool On { get; set; }
        public long ChangedAt { get; set; }
    }
}
