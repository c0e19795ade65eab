using System.Net.Sockets;
using EdgeAgent.Daemon.Configuration;
using EdgeAgent.Daemon.Models;
using EdgeAgent.Kernels;

namespace EdgeAgent.Daemon.Cli;

/// <summary>
/// <c>edgeagent doctor</c>: what this device offers and what is in the way — CPU features and the kernel path,
/// GPIO/I2C/SPI devices and whether we may open them, the configuration, the broker, the model store.
/// Exit 0 when nothing blocks running, 1 otherwise.
/// </summary>
internal static class DoctorCommand
{
    public static int Run(string[] args)
    {
        string? configPath = null;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--config" && i + 1 < args.Length) configPath = args[++i];
            else if (args[i].StartsWith("--config=", StringComparison.Ordinal)) configPath = args[i]["--config=".Length..];
            else return Program.UsageError($"unknown option '{args[i]}' for doctor");
        }
        var problems = new List<string>();
        var o = Console.Out;

        o.WriteLine($"edgeagent {Program.Version}");
        o.WriteLine($"cpu      {CpuFeatures.Host.Describe()}");
        try
        {
            o.WriteLine($"kernels  {IsaSelection.FromEnvironment().ToName()} (supported: {string.Join(", ", CpuFeatures.Host.SupportedIsas.Select(i => i.ToName()))})");
        }
        catch (IsaNotSupportedException e)
        {
            problems.Add(e.Message);
            o.WriteLine($"kernels  ERROR {e.Message}");
        }
        if (UnusedX64Features() is { Length: > 0 } unused)
            o.WriteLine($"         the CPU also has {unused}, which this build cannot use (x64 NativeAOT targets x86-64-v3; for this machine: ./build.sh publish --x64-isa native)");
        if (CpuFeatures.Host.Avx512VnniUnavailable is { } refused)
            o.WriteLine($"         avx512-vnni is off: its kernels are generated machine code and {refused}");
        o.WriteLine($"board    {BoardName()}");

        ReportDevices(o, "gpio", "/dev", "gpiochip*", problems);
        ReportDevices(o, "i2c", "/dev", "i2c-*", problems);
        ReportDevices(o, "spi", "/dev", "spidev*", problems);

        EdgeAgentOptions? options = null;
        try
        {
            var configuration = ConfigLoader.Load(configPath, []);
            options = OptionsBinder.Bind(configuration, out var errors);
            string source = configPath ?? (File.Exists(ConfigLoader.DefaultPath) ? ConfigLoader.DefaultPath : "built-in defaults (no config file)");
            if (errors.Count == 0) o.WriteLine($"config   {source}: valid");
            foreach (var error in errors)
            {
                problems.Add($"config {error}");
                o.WriteLine($"config   ERROR {error}");
            }
        }
        catch (ConfigException e)
        {
            problems.AddRange(e.Errors.Select(x => x.ToString()));
            o.WriteLine($"config   ERROR {e.Message}");
        }

        if (options is not null)
        {
            foreach (var s in options.Sensors)
                o.WriteLine($"sensor   {s.Name}: {s.Type} at {s.RateHz} Hz{(s.Type is "mpu6050" or "bme280" or "ads1115" or "ina219" ? $" on /dev/i2c-{s.Bus} at 0x{s.Address:x2}" : "")}");
            var broker = BrokerEndpoint.From(options.Mqtt);
            o.WriteLine($"broker   {broker}: {Probe(broker, out bool reachable)}");
            if (!reachable && !broker.Embedded) problems.Add($"broker {broker} is not reachable");
            ReportStore(o, options, problems);
            ReportWritable(o, "state", options.Device.StateDirectory, problems);
        }

        o.WriteLine(problems.Count == 0 ? "doctor   nothing blocks running" : $"doctor   {problems.Count} problem(s)");
        return problems.Count == 0 ? 0 : 1;
    }

    /// <summary>
    /// AVX-512BW, AVX-512 VNNI and AVX-VNNI when /proc/cpuinfo lists them but this process cannot use them: a NativeAOT binary sees no
    /// instruction set above the one it was built for, so on such a CPU faster kernels exist that this build leaves out.
    /// </summary>
    private static string UnusedX64Features()
    {
        if (!System.Runtime.Intrinsics.X86.X86Base.IsSupported) return "";
        string flags;
        try
        {
            flags = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal)) ?? "";
        }
        catch (IOException)
        {
            return "";
        }
        var words = flags.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var unused = new List<string>();
        if (words.Contains("avx512bw") && !System.Runtime.Intrinsics.X86.Avx512BW.IsSupported) unused.Add("AVX-512BW");
        if (words.Contains("avx512_vnni") && !System.Runtime.Intrinsics.X86.Avx512BW.IsSupported) unused.Add("AVX-512 VNNI");
        if (words.Contains("avx_vnni") && !System.Runtime.Intrinsics.X86.AvxVnni.IsSupported) unused.Add("AVX-VNNI");
        return string.Join(" and ", unused);
    }

    private static string BoardName()
    {
        foreach (var path in new[] { "/proc/device-tree/model", "/sys/firmware/devicetree/base/model" })
            if (File.Exists(path)) return File.ReadAllText(path).TrimEnd('\0', '\n');
        return "unknown (no device tree; not a Pi or Jetson)";
    }

    private static void ReportDevices(TextWriter o, string kind, string directory, string pattern, List<string> problems)
    {
        var devices = Directory.Exists(directory) ? Directory.GetFiles(directory, pattern).Order(StringComparer.Ordinal).ToArray() : [];
        if (devices.Length == 0)
        {
            o.WriteLine($"{kind,-8} none found ({directory}/{pattern})");
            return;
        }
        foreach (var device in devices)
        {
            string access = CanOpen(device);
            o.WriteLine($"{kind,-8} {device}: {access}");
        }
    }

    private static string CanOpen(string device)
    {
        try
        {
            using var stream = new FileStream(device, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, 1);
            return "read/write ok";
        }
        catch (UnauthorizedAccessException)
        {
            return $"NO ACCESS for uid {Environment.UserName}: add the user to the device's group ({GroupHint(device)})";
        }
        catch (IOException e)
        {
            return $"present ({e.Message})";
        }
    }

    private static string GroupHint(string device) =>
        device.Contains("gpiochip", StringComparison.Ordinal) ? "gpio" : device.Contains("i2c", StringComparison.Ordinal) ? "i2c" : "spi";

    private static string Probe(BrokerEndpoint broker, out bool reachable)
    {
        try
        {
            using var client = new TcpClient();
            var connect = client.ConnectAsync(broker.Host, broker.Port);
            reachable = connect.Wait(TimeSpan.FromSeconds(2)) && client.Connected;
            return reachable ? "reachable" : "no answer within 2 s";
        }
        catch (Exception e) when (e is SocketException or AggregateException)
        {
            reachable = false;
            return broker.Embedded ? "not running (the daemon starts it)" : $"unreachable ({(e as AggregateException)?.InnerException?.Message ?? e.Message})";
        }
    }

    private static void ReportStore(TextWriter o, EdgeAgentOptions options, List<string> problems)
    {
        string root = options.Model.StoreDirectory;
        if (!Directory.Exists(root))
        {
            o.WriteLine($"models   {root}: does not exist yet; {(File.Exists(options.Model.DemoBundle) ? $"the demo bundle {options.Model.DemoBundle} will be installed" : "no demo bundle either: deploy a model")}");
            if (!File.Exists(options.Model.DemoBundle)) problems.Add("no model installed and no demo bundle");
            return;
        }
        try
        {
            var store = new ModelStore(root, options.Model.Keep, verifier: null);
            var current = store.GetCurrent(options.Model.Name);
            var versions = store.List(options.Model.Name);
            o.WriteLine($"models   {root}/{options.Model.Name}: current {current?.Version ?? "none"}, installed {string.Join(", ", versions.Select(v => v.Version + (v.IsBad ? " (bad)" : "")))}");
            if (current is not null && ModelStore.CheckIntegrity(current) is { } broken)
            {
                problems.Add($"current model: {broken}");
                o.WriteLine($"models   ERROR current model: {broken}");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ModelStoreException)
        {
            problems.Add($"model store: {e.Message}");
            o.WriteLine($"models   ERROR {e.Message}");
        }
    }

    private static void ReportWritable(TextWriter o, string what, string directory, List<string> problems)
    {
        try
        {
            Directory.CreateDirectory(directory);
            string probe = Path.Combine(directory, $".doctor-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
            o.WriteLine($"{what,-8} {directory}: writable");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add($"{directory} is not writable");
            o.WriteLine($"{what,-8} {directory}: NOT WRITABLE ({e.Message})");
        }
    }
}
