using EdgeAgent.Compression.Versioning;

namespace EdgeAgent.Daemon.Mqtt;

/// <summary>
/// Orders model versions: by semantic-version precedence when both parse (bundles carry SemVer), otherwise
/// dot-separated numeric parts compared as numbers ("1.10" &gt; "1.9", a missing part counts as 0) with a
/// non-numeric part compared ordinally, so every pair of versions still compares.
/// </summary>
public static class ModelVersion
{
    public static int Compare(string a, string b)
    {
        if (SemanticVersion.TryParse(a, out var x) && SemanticVersion.TryParse(b, out var y)) return Math.Sign(x.CompareTo(y));
        var p = a.Split('.');
        var q = b.Split('.');
        for (int i = 0; i < Math.Max(p.Length, q.Length); i++)
        {
            string s = i < p.Length ? p[i] : "0", t = i < q.Length ? q[i] : "0";
            int c = long.TryParse(s, out long m) && long.TryParse(t, out long n) ? m.CompareTo(n) : string.CompareOrdinal(s, t);
            if (c != 0) return Math.Sign(c);
        }
        return 0;
    }
}
