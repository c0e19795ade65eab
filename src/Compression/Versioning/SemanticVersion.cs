using System.Diagnostics.CodeAnalysis;

namespace EdgeAgent.Compression.Versioning;

/// <summary>
/// A Semantic Versioning 2.0.0 version (MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]).
/// Ordering follows the spec's precedence rules, which ignore build metadata; the device uses it to
/// refuse downgrades, so parsing is strict (no leading zeros, no empty identifiers, no "v" prefix).
/// </summary>
public sealed class SemanticVersion : IComparable<SemanticVersion>, IEquatable<SemanticVersion>
{
    private readonly string[] _prerelease;
    private readonly string[] _build;

    private SemanticVersion(ulong major, ulong minor, ulong patch, string[] prerelease, string[] build)
    {
        Major = major;
        Minor = minor;
        Patch = patch;
        _prerelease = prerelease;
        _build = build;
    }

    public SemanticVersion(ulong major, ulong minor, ulong patch) : this(major, minor, patch, [], []) { }

    public ulong Major { get; }
    public ulong Minor { get; }
    public ulong Patch { get; }
    public IReadOnlyList<string> Prerelease => _prerelease;
    public IReadOnlyList<string> Build => _build;
    public bool IsPrerelease => _prerelease.Length > 0;

    public static SemanticVersion Parse(string text)
    {
        if (TryParse(text, out var version, out var error)) return version;
        throw new FormatException($"'{text}' is not a semantic version (MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]): {error}");
    }

    public static bool TryParse(string? text, [NotNullWhen(true)] out SemanticVersion? version) =>
        TryParse(text, out version, out _);

    public static bool TryParse(string? text, [NotNullWhen(true)] out SemanticVersion? version, out string error)
    {
        version = null;
        if (string.IsNullOrEmpty(text)) { error = "empty"; return false; }
        if (text.Length > 256) { error = "longer than 256 characters"; return false; }

        string core = text;
        string[] build = [];
        int plus = text.IndexOf('+');
        if (plus >= 0)
        {
            core = text[..plus];
            build = text[(plus + 1)..].Split('.');
            foreach (var id in build)
            {
                if (!IsIdentifier(id)) { error = $"build identifier '{id}' must be non-empty [0-9A-Za-z-]"; return false; }
            }
        }

        string[] prerelease = [];
        int dash = core.IndexOf('-');
        if (dash >= 0)
        {
            prerelease = core[(dash + 1)..].Split('.');
            core = core[..dash];
            foreach (var id in prerelease)
            {
                if (!IsIdentifier(id)) { error = $"pre-release identifier '{id}' must be non-empty [0-9A-Za-z-]"; return false; }
                if (IsNumeric(id) && id.Length > 1 && id[0] == '0') { error = $"numeric pre-release identifier '{id}' has a leading zero"; return false; }
            }
        }

        var parts = core.Split('.');
        if (parts.Length != 3) { error = "expected three dot-separated numbers"; return false; }
        Span<ulong> numbers = stackalloc ulong[3];
        for (int i = 0; i < 3; i++)
        {
            var part = parts[i];
            if (part.Length == 0 || !IsNumeric(part)) { error = $"'{part}' is not a number"; return false; }
            if (part.Length > 1 && part[0] == '0') { error = $"'{part}' has a leading zero"; return false; }
            if (!ulong.TryParse(part, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out numbers[i]))
            {
                error = $"'{part}' is too large"; return false;
            }
        }
        version = new SemanticVersion(numbers[0], numbers[1], numbers[2], prerelease, build);
        error = "";
        return true;
    }

    private static bool IsNumeric(string s)
    {
        foreach (char c in s) if (c is < '0' or > '9') return false;
        return true;
    }

    private static bool IsIdentifier(string s)
    {
        if (s.Length == 0) return false;
        foreach (char c in s)
        {
            if (!(c is >= '0' and <= '9' or >= 'a' and <= 'z' or >= 'A' and <= 'Z' or '-')) return false;
        }
        return true;
    }

    /// <summary>Precedence order (SemVer 2.0.0 §11); build metadata does not take part.</summary>
    public int CompareTo(SemanticVersion? other)
    {
        if (other is null) return 1;
        int c = Major.CompareTo(other.Major);
        if (c != 0) return c;
        c = Minor.CompareTo(other.Minor);
        if (c != 0) return c;
        c = Patch.CompareTo(other.Patch);
        if (c != 0) return c;

        // A release ranks above any of its pre-releases.
        if (_prerelease.Length == 0) return other._prerelease.Length == 0 ? 0 : 1;
        if (other._prerelease.Length == 0) return -1;
        int n = Math.Min(_prerelease.Length, other._prerelease.Length);
        for (int i = 0; i < n; i++)
        {
            c = CompareIdentifier(_prerelease[i], other._prerelease[i]);
            if (c != 0) return c;
        }
        return _prerelease.Length.CompareTo(other._prerelease.Length);
    }

    private static int CompareIdentifier(string a, string b)
    {
        bool an = IsNumeric(a), bn = IsNumeric(b);
        if (an && bn)
        {
            // No leading zeros, so the longer digit string is the larger number (and no overflow).
            int c = a.Length.CompareTo(b.Length);
            return c != 0 ? c : string.CompareOrdinal(a, b);
        }
        if (an) return -1;
        if (bn) return 1;
        return Math.Sign(string.CompareOrdinal(a, b));
    }

    /// <summary>Same precedence and same build metadata.</summary>
    public bool Equals(SemanticVersion? other) =>
        other is not null && CompareTo(other) == 0 && _build.AsSpan().SequenceEqual(other._build);

    public override bool Equals(object? obj) => obj is SemanticVersion v && Equals(v);

    public override int GetHashCode() => ToString().GetHashCode(StringComparison.Ordinal);

    public override string ToString()
    {
        var s = $"{Major}.{Minor}.{Patch}";
        if (_prerelease.Length > 0) s += "-" + string.Join('.', _prerelease);
        if (_build.Length > 0) s += "+" + string.Join('.', _build);
        return s;
    }

    public static bool operator <(SemanticVersion a, SemanticVersion b) => a.CompareTo(b) < 0;
    public static bool operator >(SemanticVersion a, SemanticVersion b) => a.CompareTo(b) > 0;
    public static bool operator <=(SemanticVersion a, SemanticVersion b) => a.CompareTo(b) <= 0;
    public static bool operator >=(SemanticVersion a, SemanticVersion b) => a.CompareTo(b) >= 0;
    public static bool operator ==(SemanticVersion? a, SemanticVersion? b) => a is null ? b is null : a.Equals(b);
    public static bool operator !=(SemanticVersion? a, SemanticVersion? b) => !(a == b);
}
