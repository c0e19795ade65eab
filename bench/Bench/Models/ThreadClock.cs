using System.Diagnostics;
using System.Runtime.InteropServices;

namespace EdgeAgent.Bench.Models;

/// <summary>Clocks for timing one run: wall time, and the calling thread's CPU time (Linux clock_gettime).</summary>
internal static partial class ThreadClock
{
    private const int ClockThreadCpuTime = 3; // CLOCK_THREAD_CPUTIME_ID

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    public static double WallMilliseconds() => Stopwatch.GetTimestamp() * 1000.0 / Stopwatch.Frequency;

    public static double CpuMilliseconds()
    {
        if (ClockGetTime(ClockThreadCpuTime, out var t) != 0) throw new InvalidOperationException("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
        return t.Seconds * 1e3 + t.Nanoseconds / 1e6;
    }
}
