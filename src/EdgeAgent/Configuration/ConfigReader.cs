using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace EdgeAgent.Daemon.Configuration;

/// <summary>
/// Reads typed values out of an <see cref="IConfigurationRoot"/> by key, without reflection (NativeAOT),
/// remembering every key it was asked about so that everything else can be reported as unknown, and
/// naming the source (file, environment, command line) of a bad value.
/// </summary>
internal sealed class ConfigReader(IConfigurationRoot root)
{
    private readonly HashSet<string> _known = new(StringComparer.OrdinalIgnoreCase);

    public List<ConfigError> Errors { get; } = [];

    public void Error(string key, string reason) => Errors.Add(new ConfigError(key, reason, SourceOf(key)));

    public string String(string key, string fallback)
    {
        _known.Add(key);
        return root[key] ?? fallback;
    }

    public int Int(string key, int fallback, int min, int max)
    {
        string? text = Raw(key);
        if (text is null) return fallback;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) &&
            !TryParseHex(text, out value))
        {
            Error(key, $"'{text}' is not an integer");
            return fallback;
        }
        if (value < min || value > max)
        {
            Error(key, $"{value} is out of range [{min}, {max}]");
            return fallback;
        }
        return value;
    }

    public double Double(string key, double fallback, double min, double max)
    {
        string? text = Raw(key);
        if (text is null) return fallback;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
        {
            Error(key, $"'{text}' is not a number");
            return fallback;
        }
        if (value < min || value > max)
        {
            Error(key, $"{value.ToString(CultureInfo.InvariantCulture)} is out of range [{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}]");
            return fallback;
        }
        return value;
    }

    public bool Bool(string key, bool fallback)
    {
        string? text = Raw(key);
        if (text is null) return fallback;
        if (bool.TryParse(text, out bool value)) return value;
        Error(key, $"'{text}' is not true or false");
        return fallback;
    }

    public string Choice(string key, string fallback, params string[] allowed)
    {
        string value = String(key, fallback);
        string? match = allowed.FirstOrDefault(a => a.Equals(value, StringComparison.OrdinalIgnoreCase));
        if (match is not null) return match;
        Error(key, $"'{value}' is not one of: {string.Join(", ", allowed)}");
        return fallback;
    }

    /// <summary>A JSON array of strings (<c>key:0</c>, <c>key:1</c>, ...).</summary>
    public List<string> Strings(string key)
    {
        var list = new List<string>();
        foreach (var index in ArrayIndices(key))
            list.Add(String($"{key}:{index}", ""));
        return list;
    }

    /// <summary>Indices of a JSON array's elements, in order; a non-numeric child is an unknown key.</summary>
    public IEnumerable<int> ArrayIndices(string key)
    {
        _known.Add(key);
        var indices = new List<int>();
        foreach (var child in root.GetSection(key).GetChildren())
            if (int.TryParse(child.Key, NumberStyles.None, CultureInfo.InvariantCulture, out int index))
                indices.Add(index);
        indices.Sort();
        for (int i = 0; i < indices.Count; i++)
            if (indices[i] != i)
            {
                Error($"{key}:{indices[i]}", $"array elements must be numbered 0..{indices.Count - 1} without gaps");
                break;
            }
        return indices;
    }

    /// <summary>Every key with a value that no reader asked for: typos, misplaced settings.</summary>
    public void ReportUnknownKeys()
    {
        foreach (var pair in root.AsEnumerable(makePathsRelative: false))
        {
            if (pair.Value is null || _known.Contains(pair.Key)) continue;
            // An empty JSON object or array appears as a key with an empty value: harmless when it is a known section.
            if (pair.Value.Length == 0 && _known.Any(k => k.StartsWith(pair.Key + ":", StringComparison.OrdinalIgnoreCase))) continue;
            Error(pair.Key, $"unknown key{Suggest(pair.Key)}");
        }
    }

    private string? Raw(string key)
    {
        _known.Add(key);
        string? text = root[key];
        return string.IsNullOrWhiteSpace(text) ? null : text.Trim();
    }

    private static bool TryParseHex(string text, out int value)
    {
        value = 0;
        return text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) &&
               int.TryParse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out value);
    }

    private string Suggest(string key)
    {
        int colon = key.LastIndexOf(':');
        string parent = colon < 0 ? "" : key[..colon];
        string leaf = colon < 0 ? key : key[(colon + 1)..];
        var siblings = _known
            .Where(k => k.Length > parent.Length && (parent.Length == 0 ? !k.Contains(':') : k.StartsWith(parent + ":", StringComparison.OrdinalIgnoreCase) && !k[(parent.Length + 1)..].Contains(':')))
            .Select(k => parent.Length == 0 ? k : k[(parent.Length + 1)..])
            .ToArray();
        string? best = siblings.OrderBy(s => Distance(s.ToLowerInvariant(), leaf.ToLowerInvariant())).FirstOrDefault();
        if (best is not null && Distance(best.ToLowerInvariant(), leaf.ToLowerInvariant()) <= Math.Max(2, leaf.Length / 3))
            return $"; did you mean '{(parent.Length == 0 ? best : parent + ":" + best)}'?";
        return siblings.Length > 0 ? $"; known here: {string.Join(", ", siblings.Order(StringComparer.OrdinalIgnoreCase))}" : "";
    }

    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }

    private string? SourceOf(string key)
    {
        foreach (var provider in root.Providers.Reverse())
            if (provider.TryGet(key, out _))
                return provider switch
                {
                    Microsoft.Extensions.Configuration.Json.JsonConfigurationProvider json => json.Source.Path,
                    Microsoft.Extensions.Configuration.EnvironmentVariables.EnvironmentVariablesConfigurationProvider =>
                        "environment EDGEAGENT__" + key.Replace(":", "__", StringComparison.Ordinal).ToUpperInvariant(),
                    Microsoft.Extensions.Configuration.CommandLine.CommandLineConfigurationProvider => "command line",
                    _ => provider.ToString(),
                };
        return null;
    }
}
