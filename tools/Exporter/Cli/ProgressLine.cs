namespace EdgeAgent.Exporter.Cli;

/// <summary>
/// A one-line progress bar on stderr for long steps, redrawn in place on a terminal and silent
/// otherwise (logs and tests get only the final result).
/// </summary>
internal static class ProgressLine
{
    private static int s_lastPercent = -1;

    public static Action<int, int, int> For(string label) => (_, done, total) => Show(label, done, total);

    public static void Show(string label, int done, int total)
    {
        if (Console.IsErrorRedirected || total <= 0) return;
        int percent = (int)(100L * done / total);
        if (percent == s_lastPercent) return;
        s_lastPercent = percent;
        int width = 30, filled = width * percent / 100;
        Console.Error.Write($"\r{label} [{new string('#', filled)}{new string('.', width - filled)}] {percent,3}% ({done}/{total})");
    }

    public static void Done()
    {
        if (Console.IsErrorRedirected || s_lastPercent < 0) return;
        Console.Error.WriteLine();
        s_lastPercent = -1;
    }
}
