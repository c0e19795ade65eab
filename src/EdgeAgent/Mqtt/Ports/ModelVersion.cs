namespace EdgeAgent.Daemon.Mqtt;

/// <summary>
/// Orders model versions: dot-separated numeric parts compared as numbers ("1.10" &gt; "1.9"), a missing part counts
/// as 0, and a non-numeric part falls back to ordinal order so every pair of versions still compares.
/// </summary>
public static class ModelVersion
{
    public static int Compare(string a, string b)
    {
        var x = a.Split('.');
        var y = b.Split('.');
        for (int i = 0; i < Math.Max(x.Length, y.Length); i++)
        {
            string p = i < x.Length ? x[i] : "0", q = i < y.Length ? y[i] : "0";
            int c = long.TryParse(p, out long m) && long.TryParse(q, out long n) ? m.CompareTo(n) : string.CompareOrdinal(p, q);
            if (c != 0) return Math.Sign(c);
        }
        return 0;
    }
}
