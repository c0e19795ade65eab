namespace EdgeAgent.Bench;

public static class Program
{
    // Suites add themselves here: name -> entry point taking the remaining arguments.
    private static readonly Dictionary<string, Func<string[], int>> Suites = new()
    {
        ["kernels"] = Kernels.KernelsBench.Run,
        ["models"] = Models.ModelsBench.Run,
    };

    public static int Main(string[] args)
    {
        if (args.Length == 0 || !Suites.TryGetValue(args[0], out var suite))
        {
            Console.Error.WriteLine($"usage: edgeagent-bench <suite> [options]; suites: {string.Join(", ", Suites.Keys)}");
            return 2;
        }
        return suite(args[1..]);
    }
}
