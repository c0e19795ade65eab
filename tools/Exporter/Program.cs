using System.Reflection;

namespace EdgeAgent.Exporter;

public static class Program
{
    public static string Version =>
        typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static int Main(string[] args)
    {
        if (args is ["--version"])
        {
            Console.WriteLine($"exporter {Version}");
            return 0;
        }
        Console.Error.WriteLine("usage: exporter --version");
        return 2;
    }
}
