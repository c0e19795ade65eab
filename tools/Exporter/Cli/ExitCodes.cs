namespace EdgeAgent.Exporter.Cli;

internal static class ExitCodes
{
    public const int Success = 0;
    /// <summary>The command was understood but failed: bad input file, wrong key, verification failure.</summary>
    public const int Failure = 1;
    /// <summary>The command line itself is wrong: unknown option, missing argument, invalid value.</summary>
    public const int Usage = 2;
}
