using System.Reflection;
using EdgeAgent.Kernels;

namespace EdgeAgent.Daemon;

public static class Program
{
    public static string Version =>
        typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static int Main(string[] args)
    {
        if (args is ["--version"])
        {
            Console.WriteLine($"edgeagent {Version} ({CpuFeatures.Host.Describe()}, kernels: {IsaSelection.FromEnvironment().ToName()})");
            return 0;
        }
        Console.Error.WriteLine("usage: edgeagent --version");
        return 2;
    }
}
