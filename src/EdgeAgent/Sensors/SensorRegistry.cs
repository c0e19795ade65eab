using System.Device.I2c;
using EdgeAgent.Daemon.Configuration;
using EdgeAgent.Daemon.Sensors.Replay;
using EdgeAgent.Daemon.Sensors.Simulated;
using EdgeAgent.Daemon.Sensors.Topics;

namespace EdgeAgent.Daemon.Sensors;

/// <summary>
/// Opens every configured sensor once, at start-up, and names the one that feeds the model. A sensor that
/// cannot be opened (no device at the address, wrong chip id) stops start-up with its key and the reason.
/// </summary>
public sealed class SensorRegistry : IDisposable
{
    private readonly List<(SensorOptions Options, ISensorSource Source)> _sensors = [];

    public SensorRegistry(EdgeAgentOptions options) : this(options, OpenI2c)
    {
    }

    /// <param name="openI2c">Opens an I2C device by bus and address; tests pass emulated devices.</param>
    public SensorRegistry(EdgeAgentOptions options, Func<int, int, I2cDevice> openI2c)
    {
        var topicSources = new List<TopicSensorSource>();
        try
        {
            for (int i = 0; i < options.Sensors.Count; i++)
            {
                var s = options.Sensors[i];
                ISensorSource source = Create(s, $"sensors:{i}", openI2c);
                if (source is TopicSensorSource topic) topicSources.Add(topic);
                _sensors.Add((s, source));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
        TopicRouter = new TopicReadingRouter(topicSources);
        string pipelineSource = options.Pipeline.Source.Length > 0 ? options.Pipeline.Source : options.Sensors[0].Name;
        PipelineSource = _sensors.First(x => x.Options.Name.Equals(pipelineSource, StringComparison.OrdinalIgnoreCase));
    }

    public IReadOnlyList<(SensorOptions Options, ISensorSource Source)> Sensors => _sensors;

    /// <summary>The sensor whose samples are windowed and inferred.</summary>
    public (SensorOptions Options, ISensorSource Source) PipelineSource { get; }

    public TopicReadingRouter TopicRouter { get; }

    private static ISensorSource Create(SensorOptions s, string key, Func<int, int, I2cDevice> openI2c)
    {
        try
        {
            return s.Type switch
            {
                "simulated" => new SimulatedVibrationSource(s.Name, s.RateHz, s.Seed, s.NoiseG, s.DriftGPerHour, s.RegimeSeconds),
                "csv" => new CsvReplaySource(s.Name, s.Path, s.Loop),
                "mqtt" => new TopicSensorSource(s.Name, s.Topic, s.Channels),
                "mpu6050" => new Mpu6050.Mpu6050Source(s.Name, new Mpu6050.Mpu6050(openI2c(s.Bus, s.Address), sampleRateHz: s.RateHz), s.RateHz),
                "bme280" => new Bme280.Bme280Source(s.Name, new Bme280.Bme280(openI2c(s.Bus, s.Address))),
                "ads1115" => new Ads1115.Ads1115Source(s.Name, new Ads1115.Ads1115(openI2c(s.Bus, s.Address), s.FullScaleVolts, s.RateHz)),
                "ina219" => new Ina219.Ina219Source(s.Name, new Ina219.Ina219(openI2c(s.Bus, s.Address), s.ShuntOhms, s.MaxCurrentAmperes)),
                _ => throw new SensorException($"unknown sensor type '{s.Type}'"),
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SensorException or PlatformNotSupportedException or InvalidOperationException)
        {
            throw new SensorException($"{key} ({s.Name}, {s.Type}): {e.Message}", e);
        }
    }

    private static I2cDevice OpenI2c(int bus, int address)
    {
        string path = $"/dev/i2c-{bus}";
        if (!File.Exists(path))
            throw new SensorException($"{path} does not exist; enable I2C (raspi-config, or dtparam=i2c_arm=on) or fix the bus number");
        return I2cDevice.Create(new I2cConnectionSettings(bus, address));
    }

    public void Dispose()
    {
        foreach (var (_, source) in _sensors) source.Dispose();
        _sensors.Clear();
    }
}
