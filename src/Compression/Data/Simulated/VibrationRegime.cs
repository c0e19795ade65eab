namespace EdgeAgent.Compression.Data.Simulated;

/// <summary>
/// Machine states the vibration simulator produces, each with the signature a vibration analyst looks for:
/// imbalance is a strong once-per-revolution (1x) rotating vector, misalignment a 2x component with a
/// large axial part, a bearing outer-race fault periodic impacts (at BPFO ≈ 3.58x) ringing a structural
/// resonance, idle only sensor noise.
/// </summary>
public enum VibrationRegime
{
    Idle,
    Normal,
    Imbalance,
    Misalignment,
    BearingFault,
}

public static class VibrationRegimes
{
    public static IReadOnlyList<string> Names { get; } = ["idle", "normal", "imbalance", "misalignment", "bearing_fault"];

    public static string ToName(this VibrationRegime regime) => Names[(int)regime];

    public static bool TryParse(string name, out VibrationRegime regime)
    {
        int index = Names.ToList().FindIndex(n => n.Equals(name, StringComparison.OrdinalIgnoreCase));
        regime = index < 0 ? default : (VibrationRegime)index;
        return index >= 0;
    }
}
