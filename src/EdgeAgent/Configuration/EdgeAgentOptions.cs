namespace EdgeAgent.Daemon.Configuration;

/// <summary>
/// The whole daemon configuration, bound by <see cref="OptionsBinder"/> from <c>/etc/edgeagent/edgeagent.json</c>,
/// <c>EDGEAGENT__*</c> environment variables and command-line options (later sources win). Every key and
/// its default is documented in <c>deploy/edgeagent.example.jsonc</c> and <c>deploy/CONFIG.md</c>.
/// </summary>
public sealed class EdgeAgentOptions
{
    public DeviceOptions Device { get; set; } = new();
    public ModelOptions Model { get; set; } = new();
    public List<SensorOptions> Sensors { get; set; } = [];
    public PipelineOptions Pipeline { get; set; } = new();
    public GpioOptions Gpio { get; set; } = new();
    public ReservoirOptions Reservoir { get; set; } = new();
    public MqttOptions Mqtt { get; set; } = new();
    public LearningOptions Learning { get; set; } = new();
    public LoggingOptions Logging { get; set; } = new();
    public RuntimeOptions Runtime { get; set; } = new();

    /// <summary>True when no sensor is configured and the simulated vibration source stands in.</summary>
    public bool UsesSimulatedDefault { get; set; }
}

public sealed class DeviceOptions
{
    /// <summary>Device id in MQTT topics; default: the host name.</summary>
    public string Id { get; set; } = "";
    public string StateDirectory { get; set; } = "/var/lib/edgeagent";
}

public sealed class ModelOptions
{
    public string Name { get; set; } = "vibration";
    /// <summary>Default: <c>&lt;stateDirectory&gt;/models</c>.</summary>
    public string StoreDirectory { get; set; } = "";
    public int Keep { get; set; } = 3;
    /// <summary>Ed25519 public keys (base64 or a path to a key file) whose signatures are trusted.</summary>
    public List<string> TrustedKeys { get; set; } = [];
    public bool RequireSignature { get; set; } = true;
    /// <summary>Bundle installed when the store is empty (the demo model shipped with the package).</summary>
    public string DemoBundle { get; set; } = "/usr/share/edgeagent/demo/vibration.eab";
}

public sealed class SensorOptions
{
    public string Name { get; set; } = "";
    /// <summary>simulated | csv | mqtt | mpu6050 | bme280 | ads1115 | ina219</summary>
    public string Type { get; set; } = "";
    public double RateHz { get; set; } = 100;
    public int Bus { get; set; } = 1;
    public int Address { get; set; } = -1;
    /// <summary>csv: file to replay; the header names the channels.</summary>
    public string Path { get; set; } = "";
    public bool Loop { get; set; } = true;
    /// <summary>mqtt: the topic whose messages are readings.</summary>
    public string Topic { get; set; } = "";
    /// <summary>mqtt: channel names, in payload order.</summary>
    public List<string> Channels { get; set; } = [];
    /// <summary>simulated: generator seed, noise, drift and regime schedule.</summary>
    public int Seed { get; set; } = 1;
    public double NoiseG { get; set; } = 0.02;
    public double DriftGPerHour { get; set; } = 0.0;
    /// <summary>simulated: 10 s per state, so the demo's default minute visits all five states.</summary>
    public double RegimeSeconds { get; set; } = 10;
    /// <summary>ads1115: full-scale range in volts (6.144, 4.096, 2.048, 1.024, 0.512, 0.256).</summary>
    public double FullScaleVolts { get; set; } = 4.096;
    /// <summary>ina219: shunt resistance and the largest current expected, for calibration.</summary>
    public double ShuntOhms { get; set; } = 0.1;
    public double MaxCurrentAmperes { get; set; } = 3.2;
}

public sealed class PipelineOptions
{
    /// <summary>The sensor whose samples feed the model; default: the first one.</summary>
    public string Source { get; set; } = "";
    /// <summary>Samples between window starts; 0 = half the model's window.</summary>
    public int Hop { get; set; }
    public int WindowQueue { get; set; } = 4;
    /// <summary>Windows averaged by the score smoother.</summary>
    public int Smoothing { get; set; } = 4;
    /// <summary>Below this smoothed score the stable class does not change.</summary>
    public double Threshold { get; set; } = 0.5;
    /// <summary>Consecutive windows a new class must win before it becomes the stable class.</summary>
    public int Hysteresis { get; set; } = 3;
}

public sealed class GpioOptions
{
    /// <summary>The gpiochip whose lines are used (0 on Raspberry Pi 1-4, 4 or 0 on Pi 5 depending on kernel).</summary>
    public int Chip { get; set; } = 0;
    public TeachButtonOptions Teach { get; set; } = new();
    public List<GpioOutputOptions> Outputs { get; set; } = [];
    public int I2cClockHz { get; set; } = 100_000;
}

public sealed class TeachButtonOptions
{
    /// <summary>BCM pin of the button; -1 = none.</summary>
    public int Pin { get; set; } = -1;
    /// <summary>The label given to the current window when pressed.</summary>
    public string Label { get; set; } = "";
    /// <summary>falling (button to ground, pull-up) or rising.</summary>
    public string Edge { get; set; } = "falling";
    public int DebounceMs { get; set; } = 50;
}

public sealed class GpioOutputOptions
{
    public int Pin { get; set; } = -1;
    /// <summary>The class that switches this output on.</summary>
    public string Class { get; set; } = "";
    public bool ActiveLow { get; set; }
    /// <summary>Switch on at or above this smoothed score, off below <see cref="OffScore"/>.</summary>
    public double OnScore { get; set; } = 0.7;
    public double OffScore { get; set; } = 0.5;
    /// <summary>Shortest time the output holds a state, so a relay does not chatter.</summary>
    public int MinHoldMs { get; set; } = 500;
}

public sealed class ReservoirOptions
{
    /// <summary>Default: <c>&lt;stateDirectory&gt;/reservoir.db</c>.</summary>
    public string Path { get; set; } = "";
    public int Capacity { get; set; } = 2000;
    public int LabelledCapacity { get; set; } = 2000;
    public double HeldOutFraction { get; set; } = 0.1;
    public int QuotaMegabytes { get; set; } = 64;
}

public sealed class MqttOptions
{
    /// <summary>mqtt://host:port or mqtts://host:port; empty = the embedded broker on loopback.</summary>
    public string Broker { get; set; } = "";
    public int EmbeddedPort { get; set; } = 1883;
    public string TopicPrefix { get; set; } = "edgeagent";
    public string Username { get; set; } = "";
    public string PasswordFile { get; set; } = "";
    public string CaFile { get; set; } = "";
    public string CertFile { get; set; } = "";
    public string KeyFile { get; set; } = "";
    public int KeepAliveSeconds { get; set; } = 30;
    public int TelemetryIntervalMs { get; set; } = 1000;
    public List<string> FleetGroups { get; set; } = [];
    public bool HomeAssistantDiscovery { get; set; }
}

public sealed class LearningOptions
{
    public bool Enabled { get; set; } = true;
    /// <summary>New labelled samples that trigger an update.</summary>
    public int MinNewLabels { get; set; } = 20;
    public int TimeBudgetSeconds { get; set; } = 30;
    /// <summary>Largest accepted drop of old-class accuracy (fraction).</summary>
    public double MaxOldClassDrop { get; set; } = 0.02;
    public double ReplayRatio { get; set; } = 0.5;
    public double DistillationWeight { get; set; } = 0.5;
    public double Temperature { get; set; } = 2.0;
    /// <summary>Timetable: also update every this many minutes when any label arrived since the last run; 0 = off.</summary>
    public int IntervalMinutes { get; set; }
    public int Epochs { get; set; } = 8;
    public int BatchSize { get; set; } = 32;
    public double LearningRate { get; set; } = 0.002;
    /// <summary>none | l2sp | ewc: the pull of an update towards the weights it started from.</summary>
    public string Anchor { get; set; } = "l2sp";
    public double AnchorWeight { get; set; } = 0.01;
    /// <summary>Held-out accuracy an update must gain (fraction; 0 = any improvement).</summary>
    public double MinOverallGain { get; set; }
    /// <summary>Linux nice value of the learner thread (0-19); 19 = only idle CPU.</summary>
    public int Nice { get; set; } = 19;
    public int Seed { get; set; } = 1;
    /// <summary>none | simulatedRegime: label windows automatically (see LabelRuleService).</summary>
    public string LabelRule { get; set; } = "none";
    /// <summary>The rule labels every this-many-th window.</summary>
    public int LabelEvery { get; set; } = 10;
    /// <summary>Mean PSI of recent inferences against the reference at which <c>drift.detected</c> is raised.</summary>
    public double DriftThreshold { get; set; } = 0.25;
    /// <summary>Windows a model sees first that become its drift reference.</summary>
    public int DriftReferenceWindows { get; set; } = 500;
    /// <summary>Latest windows measured against the reference.</summary>
    public int DriftRecentWindows { get; set; } = 200;
    public int DriftIntervalSeconds { get; set; } = 10;
}

public sealed class LoggingOptions
{
    /// <summary>Trace | Debug | Information | Warning | Error | Critical</summary>
    public string Level { get; set; } = "Information";
}

public sealed class RuntimeOptions
{
    /// <summary>Threads for one inference; 1 keeps the other core free for sampling on a Pi 3.</summary>
    public int Threads { get; set; } = 1;
    /// <summary>Run models with ops we do not implement through ONNX Runtime, when its library is installed.</summary>
    public bool Fallback { get; set; }
}
