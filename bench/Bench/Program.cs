namespace EdgeAgent.Bench;

public static class Program
{
    public static int Main(string[] args)
    {
        Console.Error.WriteLine("usage: edgeagent-bench <suite>   (no suites yet)");
        return 2;
    }
}
