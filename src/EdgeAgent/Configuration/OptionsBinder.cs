using System.Globalization;
using EdgeAgent.Daemon.Sensors;
using Microsoft.Extensions.Configuration;

namespace EdgeAgent.Daemon.Configuration;

/// <summary>
/// Binds and validates <see cref="EdgeAgentOptions"/> by hand (no reflection, so NativeAOT-safe) and reports
/// every problem with its exact key: malformed values, values out of range, unknown keys, pins used twice,
/// and rates a sensor or its I2C bus cannot deliver.
/// </summary>
public static class OptionsBinder
{
    /// <summary>BCM numbers of the GPIO lines on the 40-pin header of every Raspberry Pi.</summary>
    public const int MaxHeaderPin = 27;

    public static EdgeAgentOptions Bind(IConfigurationRoot configuration, out IReadOnlyList<ConfigError> errors)
    {
        var r = new ConfigReader(configuration);
        var o = new EdgeAgentOptions();

        o.Device.Id = r.String("device:id", "");
        if (o.Device.Id.Length == 0) o.Device.Id = Environment.MachineName.ToLowerInvariant();
        else if (!IsTopicSafe(o.Device.Id)) r.Error("device:id", $"'{o.Device.Id}' must be 1-64 of [A-Za-z0-9_-] (it is an MQTT topic segment)");
        o.Device.StateDirectory = r.String("device:stateDirectory", o.Device.StateDirectory);

        o.Model.Name = r.String("model:name", o.Model.Name);
        if (!IsTopicSafe(o.Model.Name)) r.Error("model:name", $"'{o.Model.Name}' must be 1-64 of [A-Za-z0-9_-]");
        o.Model.StoreDirectory = r.String("model:storeDirectory", "");
        if (o.Model.StoreDirectory.Length == 0) o.Model.StoreDirectory = Path.Combine(o.Device.StateDirectory, "models");
        o.Model.Keep = r.Int("model:keep", o.Model.Keep, 2, 50);
        o.Model.TrustedKeys = r.Strings("model:trustedKeys");
        o.Model.RequireSignature = r.Bool("model:requireSignature", o.Model.RequireSignature);
        o.Model.DemoBundle = r.String("model:demoBundle", o.Model.DemoBundle);

        foreach (int i in r.ArrayIndices("sensors"))
            o.Sensors.Add(BindSensor(r, $"sensors:{i}"));

        o.Pipeline.Source = r.String("pipeline:source", "");
        o.Pipeline.Hop = r.Int("pipeline:hop", 0, 0, 1 << 20);
        o.Pipeline.WindowQueue = r.Int("pipeline:windowQueue", o.Pipeline.WindowQueue, 1, 1024);
        o.Pipeline.Smoothing = r.Int("pipeline:smoothing", o.Pipeline.Smoothing, 1, 256);
        o.Pipeline.Threshold = r.Double("pipeline:threshold", o.Pipeline.Threshold, 0, 1);
        o.Pipeline.Hysteresis = r.Int("pipeline:hysteresis", o.Pipeline.Hysteresis, 1, 1000);

        o.Gpio.Chip = r.Int("gpio:chip", o.Gpio.Chip, 0, 15);
        o.Gpio.I2cClockHz = r.Int("gpio:i2cClockHz", o.Gpio.I2cClockHz, 10_000, 3_400_000);
        o.Gpio.Teach.Pin = r.Int("gpio:teach:pin", -1, -1, MaxHeaderPin);
        o.Gpio.Teach.Label = r.String("gpio:teach:label", "");
        o.Gpio.Teach.Edge = r.Choice("gpio:teach:edge", "falling", "falling", "rising");
        o.Gpio.Teach.DebounceMs = r.Int("gpio:teach:debounceMs", o.Gpio.Teach.DebounceMs, 0, 10_000);
        if (o.Gpio.Teach.Pin >= 0 && o.Gpio.Teach.Label.Length == 0)
            r.Error("gpio:teach:label", "a teach button needs the label it gives the current window");
        foreach (int i in r.ArrayIndices("gpio:outputs"))
        {
            string k = $"gpio:outputs:{i}";
            var output = new GpioOutputOptions
            {
                Pin = r.Int($"{k}:pin", -1, 0, MaxHeaderPin),
                Class = r.String($"{k}:class", ""),
                ActiveLow = r.Bool($"{k}:activeLow", false),
                OnScore = r.Double($"{k}:onScore", 0.7, 0, 1),
                OffScore = r.Double($"{k}:offScore", 0.5, 0, 1),
                MinHoldMs = r.Int($"{k}:minHoldMs", 500, 0, 3_600_000),
            };
            if (output.Pin < 0 && configuration[$"{k}:pin"] is null) r.Error($"{k}:pin", "is required (BCM pin number 0-27)");
            if (output.Class.Length == 0) r.Error($"{k}:class", "is required: the class that switches this output on");
            if (output.OffScore > output.OnScore)
                r.Error($"{k}:offScore", $"{output.OffScore} is above onScore {output.OnScore}; hysteresis needs offScore <= onScore");
            o.Gpio.Outputs.Add(output);
        }
        CheckPinsUnique(r, o.Gpio);

        o.Reservoir.Path = r.String("reservoir:path", "");
        if (o.Reservoir.Path.Length == 0) o.Reservoir.Path = Path.Combine(o.Device.StateDirectory, "reservoir.db");
        o.Reservoir.Capacity = r.Int("reservoir:capacity", o.Reservoir.Capacity, 10, 1_000_000);
        o.Reservoir.LabelledCapacity = r.Int("reservoir:labelledCapacity", o.Reservoir.LabelledCapacity, 10, 1_000_000);
        o.Reservoir.HeldOutFraction = r.Double("reservoir:heldOutFraction", o.Reservoir.HeldOutFraction, 0, 0.5);
        o.Reservoir.QuotaMegabytes = r.Int("reservoir:quotaMegabytes", o.Reservoir.QuotaMegabytes, 1, 1 << 20);

        o.Mqtt.Broker = r.String("mqtt:broker", "");
        if (o.Mqtt.Broker.Length > 0 && !IsBrokerUri(o.Mqtt.Broker))
            r.Error("mqtt:broker", $"'{o.Mqtt.Broker}' is not mqtt://HOST[:PORT] or mqtts://HOST[:PORT] (empty = embedded broker on loopback)");
        o.Mqtt.EmbeddedPort = r.Int("mqtt:embeddedPort", o.Mqtt.EmbeddedPort, 1, 65535);
        o.Mqtt.TopicPrefix = r.String("mqtt:topicPrefix", o.Mqtt.TopicPrefix);
        if (o.Mqtt.TopicPrefix.Length == 0 || o.Mqtt.TopicPrefix.IndexOfAny(['#', '+']) >= 0)
            r.Error("mqtt:topicPrefix", $"'{o.Mqtt.TopicPrefix}' must be a non-empty topic without wildcards");
        o.Mqtt.Username = r.String("mqtt:username", "");
        o.Mqtt.PasswordFile = r.String("mqtt:passwordFile", "");
        o.Mqtt.CaFile = r.String("mqtt:caFile", "");
        o.Mqtt.CertFile = r.String("mqtt:certFile", "");
        o.Mqtt.KeyFile = r.String("mqtt:keyFile", "");
        if ((o.Mqtt.CertFile.Length == 0) != (o.Mqtt.KeyFile.Length == 0))
            r.Error(o.Mqtt.CertFile.Length == 0 ? "mqtt:certFile" : "mqtt:keyFile", "a client certificate needs both certFile and keyFile");
        o.Mqtt.KeepAliveSeconds = r.Int("mqtt:keepAliveSeconds", o.Mqtt.KeepAliveSeconds, 5, 3600);
        o.Mqtt.TelemetryIntervalMs = r.Int("mqtt:telemetryIntervalMs", o.Mqtt.TelemetryIntervalMs, 50, 3_600_000);
        o.Mqtt.FleetGroups = r.Strings("mqtt:fleetGroups");
        o.Mqtt.HomeAssistantDiscovery = r.Bool("mqtt:homeAssistantDiscovery", false);

        o.Learning.Enabled = r.Bool("learning:enabled", o.Learning.Enabled);
        o.Learning.MinNewLabels = r.Int("learning:minNewLabels", o.Learning.MinNewLabels, 1, 1_000_000);
        o.Learning.TimeBudgetSeconds = r.Int("learning:timeBudgetSeconds", o.Learning.TimeBudgetSeconds, 1, 86_400);
        o.Learning.MaxOldClassDrop = r.Double("learning:maxOldClassDrop", o.Learning.MaxOldClassDrop, 0, 1);
        o.Learning.ReplayRatio = r.Double("learning:replayRatio", o.Learning.ReplayRatio, 0, 1);
        o.Learning.DistillationWeight = r.Double("learning:distillationWeight", o.Learning.DistillationWeight, 0, 1);
        o.Learning.Temperature = r.Double("learning:temperature", o.Learning.Temperature, 0.1, 100);
        o.Learning.IntervalMinutes = r.Int("learning:intervalMinutes", o.Learning.IntervalMinutes, 0, 525_600);
        o.Learning.Epochs = r.Int("learning:epochs", o.Learning.Epochs, 1, 1000);
        o.Learning.BatchSize = r.Int("learning:batchSize", o.Learning.BatchSize, 2, 4096);
        o.Learning.LearningRate = r.Double("learning:learningRate", o.Learning.LearningRate, 1e-6, 1);
        o.Learning.Anchor = r.Choice("learning:anchor", o.Learning.Anchor, "none", "l2sp", "ewc");
        o.Learning.AnchorWeight = r.Double("learning:anchorWeight", o.Learning.AnchorWeight, 0, 1000);
        if (o.Learning.Anchor != "none" && o.Learning.AnchorWeight <= 0)
            r.Error("learning:anchorWeight", $"must be positive when learning:anchor is '{o.Learning.Anchor}' (or set learning:anchor to 'none')");
        o.Learning.MinOverallGain = r.Double("learning:minOverallGain", o.Learning.MinOverallGain, -1, 1);
        o.Learning.Nice = r.Int("learning:nice", o.Learning.Nice, 0, 19);
        o.Learning.Seed = r.Int("learning:seed", o.Learning.Seed, 0, int.MaxValue);
        o.Learning.LabelRule = r.Choice("learning:labelRule", o.Learning.LabelRule, "none", "simulatedRegime");
        o.Learning.LabelEvery = r.Int("learning:labelEvery", o.Learning.LabelEvery, 1, 1_000_000);
        o.Learning.DriftThreshold = r.Double("learning:driftThreshold", o.Learning.DriftThreshold, 0.001, 100);
        o.Learning.DriftReferenceWindows = r.Int("learning:driftReferenceWindows", o.Learning.DriftReferenceWindows, 10, 1_000_000);
        o.Learning.DriftRecentWindows = r.Int("learning:driftRecentWindows", o.Learning.DriftRecentWindows, 10, 1_000_000);
        o.Learning.DriftIntervalSeconds = r.Int("learning:driftIntervalSeconds", o.Learning.DriftIntervalSeconds, 1, 86_400);

        o.Runtime.Threads = r.Int("runtime:threads", o.Runtime.Threads, 1, 64);
        o.Runtime.Fallback = r.Bool("runtime:fallback", false);

        o.Logging.Level = r.Choice("logging:level", "Information", "Trace", "Debug", "Information", "Warning", "Error", "Critical");

        if (o.Sensors.Count == 0)
        {
            o.UsesSimulatedDefault = true;
            o.Sensors.Add(new SensorOptions { Name = "vibration", Type = "simulated", RateHz = 1000 });
        }
        CheckSensorNamesAndSource(r, o);
        CheckI2cBusBudgets(r, o);

        r.ReportUnknownKeys();
        errors = r.Errors;
        return o;
    }

    /// <summary>Binds and throws <see cref="ConfigException"/> listing every problem.</summary>
    public static EdgeAgentOptions BindOrThrow(IConfigurationRoot configuration)
    {
        var options = Bind(configuration, out var errors);
        if (errors.Count > 0) throw new ConfigException(errors);
        return options;
    }

    private static SensorOptions BindSensor(ConfigReader r, string k)
    {
        var s = new SensorOptions
        {
            Name = r.String($"{k}:name", ""),
            Type = r.Choice($"{k}:type", "", SensorKind.All.Select(x => x.Type).ToArray()),
        };
        if (s.Name.Length == 0) r.Error($"{k}:name", "is required");
        var kind = SensorKind.Find(s.Type);
        s.RateHz = r.Double($"{k}:rateHz", 100, 0.001, 1e6);
        if (kind is not null && s.RateHz > kind.MaxRateHz)
            r.Error($"{k}:rateHz", $"{s.RateHz.ToString(CultureInfo.InvariantCulture)} Hz cannot be met: {s.Type} delivers at most {kind.MaxRateHz.ToString(CultureInfo.InvariantCulture)} Hz ({kind.Why})");
        switch (s.Type)
        {
            case "mpu6050" or "bme280" or "ads1115" or "ina219":
                s.Bus = r.Int($"{k}:bus", 1, 0, 31);
                s.Address = r.Int($"{k}:address", kind!.DefaultAddress, 0x03, 0x77);
                if (s.Type == "ads1115")
                {
                    s.FullScaleVolts = r.Double($"{k}:fullScaleVolts", 4.096, 0.256, 6.144);
                    if (!Sensors.Ads1115.Ads1115Registers.IsFullScale(s.FullScaleVolts))
                        r.Error($"{k}:fullScaleVolts", $"{s.FullScaleVolts} is not one of the ADS1115's ranges: 6.144, 4.096, 2.048, 1.024, 0.512, 0.256");
                }
                if (s.Type == "ina219")
                {
                    s.ShuntOhms = r.Double($"{k}:shuntOhms", 0.1, 0.0001, 100);
                    s.MaxCurrentAmperes = r.Double($"{k}:maxCurrentAmperes", 3.2, 0.001, 100);
                    if (s.MaxCurrentAmperes * s.ShuntOhms > 0.32)
                        r.Error($"{k}:maxCurrentAmperes", $"{s.MaxCurrentAmperes} A through {s.ShuntOhms} Ω is {s.MaxCurrentAmperes * s.ShuntOhms:0.###} V, beyond the INA219's ±320 mV shunt range");
                }
                break;
            case "csv":
                s.Path = r.String($"{k}:path", "");
                s.Loop = r.Bool($"{k}:loop", true);
                if (s.Path.Length == 0) r.Error($"{k}:path", "a csv sensor needs the file to replay");
                break;
            case "mqtt":
                s.Topic = r.String($"{k}:topic", "");
                s.Channels = r.Strings($"{k}:channels");
                if (s.Topic.Length == 0) r.Error($"{k}:topic", "an mqtt sensor needs the topic its readings arrive on");
                if (s.Channels.Count == 0) r.Error($"{k}:channels", "an mqtt sensor needs its channel names, in payload order");
                break;
            case "simulated":
                s.Seed = r.Int($"{k}:seed", 1, int.MinValue, int.MaxValue);
                s.NoiseG = r.Double($"{k}:noiseG", s.NoiseG, 0, 10);
                s.DriftGPerHour = r.Double($"{k}:driftGPerHour", 0, -100, 100);
                s.RegimeSeconds = r.Double($"{k}:regimeSeconds", s.RegimeSeconds, 0.1, 1e6);
                break;
        }
        return s;
    }

    private static void CheckSensorNamesAndSource(ConfigReader r, EdgeAgentOptions o)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < o.Sensors.Count; i++)
            if (o.Sensors[i].Name.Length > 0 && !seen.Add(o.Sensors[i].Name))
                r.Error($"sensors:{i}:name", $"'{o.Sensors[i].Name}' is used by an earlier sensor");
        if (o.Pipeline.Source.Length > 0 && !seen.Contains(o.Pipeline.Source))
            r.Error("pipeline:source", $"'{o.Pipeline.Source}' is not a configured sensor (have: {string.Join(", ", seen)})");
    }

    private static void CheckPinsUnique(ConfigReader r, GpioOptions gpio)
    {
        var owners = new Dictionary<int, string>();
        if (gpio.Teach.Pin >= 0) owners[gpio.Teach.Pin] = "gpio:teach:pin";
        for (int i = 0; i < gpio.Outputs.Count; i++)
        {
            int pin = gpio.Outputs[i].Pin;
            if (pin < 0) continue;
            if (owners.TryGetValue(pin, out var owner)) r.Error($"gpio:outputs:{i}:pin", $"pin {pin} is already used by {owner}");
            else owners[pin] = $"gpio:outputs:{i}:pin";
            // BCM 2/3 carry I2C-1; using them as outputs breaks every I2C sensor.
            if (pin is 2 or 3) r.Error($"gpio:outputs:{i}:pin", $"pin {pin} is I2C-1 (SDA/SCL) on the Raspberry Pi header");
        }
    }

    /// <summary>
    /// Each I2C byte costs 9 clock cycles (8 data + ACK); the sensors on one bus must fit in 80% of its clock,
    /// the rest being start/stop conditions and the scheduler's jitter.
    /// </summary>
    private static void CheckI2cBusBudgets(ConfigReader r, EdgeAgentOptions o)
    {
        foreach (var bus in o.Sensors.Select((s, i) => (s, i)).Where(x => SensorKind.Find(x.s.Type) is { IsI2c: true }).GroupBy(x => x.s.Bus))
        {
            double bitsPerSecond = bus.Sum(x => x.s.RateHz * SensorKind.Find(x.s.Type)!.I2cBytesPerSample * 9);
            double budget = 0.8 * o.Gpio.I2cClockHz;
            if (bitsPerSecond > budget)
            {
                var last = bus.Last();
                r.Error($"sensors:{last.i}:rateHz",
                    $"the sensors on I2C bus {bus.Key} need {bitsPerSecond / 1000:0.#} kbit/s but a {o.Gpio.I2cClockHz / 1000} kHz bus carries about {budget / 1000:0.#} kbit/s; lower the rates or raise gpio:i2cClockHz (and dtparam=i2c_arm_baudrate)");
            }
        }
        var addresses = new Dictionary<(int, int), int>();
        for (int i = 0; i < o.Sensors.Count; i++)
        {
            var s = o.Sensors[i];
            if (SensorKind.Find(s.Type) is not { IsI2c: true }) continue;
            if (addresses.TryGetValue((s.Bus, s.Address), out int other))
                r.Error($"sensors:{i}:address", $"0x{s.Address:x2} on bus {s.Bus} is already used by sensors:{other}");
            else addresses[(s.Bus, s.Address)] = i;
        }
    }

    private static bool IsTopicSafe(string text) =>
        text.Length is > 0 and <= 64 && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    private static bool IsBrokerUri(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "mqtt" or "mqtts" && uri.Host.Length > 0;
}
