using System.Globalization;

namespace EdgeAgent.Daemon.Sensors.Replay;

/// <summary>
/// Replays recorded samples from a CSV file at the configured rate. The header names the channels; columns
/// named <c>time</c>, <c>timestamp</c> or <c>label</c> are skipped (recordings usually carry them). The file is
/// parsed once at start-up so that replay itself never touches the disk or allocates.
/// </summary>
public sealed class CsvReplaySource : ISensorSource
{
    private const int MaxValues = 16 << 20;
    private static readonly string[] SkippedColumns = ["time", "timestamp", "t", "label", "class"];

    private readonly float[] _values;
    private readonly int _channels;
    private readonly int _rows;
    private readonly bool _loop;
    private int _row;

    public CsvReplaySource(string name, string path, bool loop)
    {
        Name = name;
        _loop = loop;
        if (!File.Exists(path)) throw new SensorException($"sensor {name}: csv file '{path}' does not exist");
        using var reader = new StreamReader(path);
        string header = reader.ReadLine() ?? throw new SensorException($"sensor {name}: '{path}' is empty");
        var columns = header.Split(',').Select(c => c.Trim()).ToArray();
        var used = columns.Select((c, i) => (c, i)).Where(x => !SkippedColumns.Contains(x.c.ToLowerInvariant())).ToArray();
        if (used.Length == 0) throw new SensorException($"sensor {name}: '{path}' has no data columns in its header '{header}'");
        Channels = used.Select(x => x.c).ToArray();
        _channels = used.Length;
        var values = new List<float>();
        int lineNumber = 1;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Length == 0) continue;
            var cells = line.Split(',');
            if (cells.Length != columns.Length)
                throw new SensorException($"sensor {name}: '{path}' line {lineNumber} has {cells.Length} fields, the header has {columns.Length}");
            foreach (var (column, index) in used)
            {
                if (!float.TryParse(cells[index], NumberStyles.Float, CultureInfo.InvariantCulture, out float value))
                    throw new SensorException($"sensor {name}: '{path}' line {lineNumber} column '{column}': '{cells[index]}' is not a number");
                values.Add(value);
            }
            if (values.Count > MaxValues) throw new SensorException($"sensor {name}: '{path}' holds more than {MaxValues} values; split the recording");
        }
        _values = values.ToArray();
        _rows = _values.Length / _channels;
        if (_rows == 0) throw new SensorException($"sensor {name}: '{path}' has a header but no rows");
    }

    public string Name { get; }

    public IReadOnlyList<string> Channels { get; }

    public double MaxRateHz => 20_000;

    public int Rows => _rows;

    public bool Read(long timestampTicks, Span<float> destination)
    {
        if (_row >= _rows)
        {
            if (!_loop) return false;
            _row = 0;
        }
        _values.AsSpan(_row * _channels, _channels).CopyTo(destination);
        _row++;
        return true;
    }

    public void Dispose()
    {
    }
}
