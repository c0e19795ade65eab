using System.Diagnostics;
using EdgeAgent.Checks;
using EdgeAgent.Kernels;

// The NativeAOT test runner for machines with no test framework: the ARM64 binary runs under
// qemu-aarch64 (cortex-a53/a72/a76) and executes exactly the checks the x64 xunit suites run.
// Usage: edgeagent-checks [--suite NAME]... [--filter TEXT] [--list] [--label TEXT]

var suites = new List<string>();
var conformanceRoots = new List<string>();
string? filter = null;
string label = "checks";
bool list = false;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--suite" when i + 1 < args.Length: suites.Add(args[++i]); break;
        case "--filter" when i + 1 < args.Length: filter = args[++i]; break;
        case "--label" when i + 1 < args.Length: label = args[++i]; break;
        case "--list": list = true; break;
        case "--conformance" when i + 1 < args.Length: conformanceRoots.Add(args[++i]); break;
        case "-h" or "--help":
            Console.WriteLine("usage: edgeagent-checks [--suite NAME]... [--filter TEXT] [--label TEXT] [--list] [--conformance DIR]...");
            return 0;
        default:
            Console.Error.WriteLine($"edgeagent-checks: unknown argument '{args[i]}' (try --help)");
            return 2;
    }
}

var cpu = CpuFeatures.Host;
Isa chosen;
try
{
    chosen = IsaSelection.FromEnvironment();
}
catch (IsaNotSupportedException e)
{
    Console.Error.WriteLine($"edgeagent-checks: {e.Message}");
    return 2;
}
Console.WriteLine($"[{label}] cpu: {cpu.Describe()}; kernel path: {chosen.ToName()}; qgemm: {KernelTable.Current.QGemmKernelName}; paths tested: {string.Join(", ", cpu.SupportedIsas.Select(i => i.ToName()))}");

if (conformanceRoots.Count > 0)
{
    // ONNX backend test cases read from the host's libonnx-testdata (DIR: a suite folder or one case).
    var (cp, cf, cs) = EdgeAgent.Checks.Runtime.ConformanceRunner.RunAll(conformanceRoots, Console.Out);
    Console.WriteLine($"{label}: {cp} passed, {cf} failed, {cs} skipped");
    return cf == 0 ? 0 : 1;
}

var selected = CheckRegistry.All
    .Where(c => suites.Count == 0 || suites.Contains(c.Suite))
    .Where(c => filter is null || c.ToString().Contains(filter, StringComparison.OrdinalIgnoreCase))
    .ToList();

if (list)
{
    foreach (var c in selected) Console.WriteLine(c);
    return 0;
}

int passed = 0, failed = 0;
var clock = Stopwatch.StartNew();
foreach (var check in selected)
{
    try
    {
        check.Body();
        passed++;
    }
    catch (Exception e)
    {
        failed++;
        Console.WriteLine($"[{label}] FAIL {check}: {e.GetType().Name}: {e.Message}");
    }
}
Console.WriteLine($"[{label}] {selected.Count} checks in {clock.Elapsed.TotalSeconds:F1} s");
Console.WriteLine($"{label}: {passed} passed, {failed} failed");
return failed == 0 ? 0 : 1;
