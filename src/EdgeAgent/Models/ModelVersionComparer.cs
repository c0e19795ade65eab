namespace EdgeAgent.Daemon.Models;

/// <summary>
/// Orders model versions the way people write them: dotted numeric parts compare as numbers
/// (<c>1.10 &gt; 1.9</c>), other parts ordinally, and a release sorts after its pre-releases
/// (<c>2.0 &gt; 2.0-rc1</c>). Used for downgrade refusal and for choosing fallbacks.
/// </summary>
public sealed class ModelVersionComparer : IComparer<string>
{
    public static ModelVersionComparer Instance { get; } = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y)) return 0;
        if (x is null) return -1;
        if (y is null) return 1;
        SplitPreRelease(x, out var xRelease, out var xPre);
        SplitPreRelease(y, out var yRelease, out var yPre);
        int order = CompareDotted(xRelease, yRelease);
        if (order != 0) return order;
        if (xPre.Length == 0 || yPre.Length == 0) return yPre.Length.CompareTo(xPre.Length) switch { > 0 => 1, < 0 => -1, _ => 0 };
        return CompareDotted(xPre, yPre);
    }

    private static void SplitPreRelease(string version, out string release, out string pre)
    {
        int dash = version.IndexOf('-');
        release = dash < 0 ? version : version[..dash];
        pre = dash < 0 ? "" : version[(dash + 1)..];
    }

    private static int CompareDotted(string x, string y)
    {
        var xs = x.Split('.');
        var ys = y.Split('.');
        for (int i = 0; i < Math.Max(xs.Length, ys.Length); i++)
        {
            string a = i < xs.Length ? xs[i] : "0";
            string b = i < ys.Length ? ys[i] : "0";
            bool aNumber = long.TryParse(a, out long an);
            bool bNumber = long.TryParse(b, out long bn);
            int order = aNumber && bNumber ? an.CompareTo(bn)
                : aNumber ? -1 : bNumber ? 1 : string.CompareOrdinal(a, b);
            if (order != 0) return order;
        }
        return 0;
    }
}
