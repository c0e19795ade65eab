using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace EdgeAgent.Tests.Support;

/// <summary>
/// The runtime's GC AllocationTick events (one each time a thread has allocated ~100 KB, naming the type of the object
/// that crossed the mark), tallied by type: a sampled picture of where a process's allocated bytes go, so that a failing
/// allocation bound names what to look at.
/// </summary>
public sealed class AllocationSampler : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly ConcurrentDictionary<string, long> _bytesByType = new(StringComparer.Ordinal);
    private volatile bool _recording;

    public void Start() => _recording = true;

    public void Stop() => _recording = false;

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!_recording || e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.PayloadNames is null) return;
        int type = e.PayloadNames.IndexOf("TypeName"), amount = e.PayloadNames.IndexOf("AllocationAmount64");
        if (type < 0 || amount < 0) return;
        string name = e.Payload![type] as string ?? "?";
        long bytes = Convert.ToInt64(e.Payload[amount], System.Globalization.CultureInfo.InvariantCulture);
        _bytesByType.AddOrUpdate(name, bytes, (_, total) => total + bytes);
    }

    /// <summary>"type: N KB" lines, largest first.</summary>
    public IEnumerable<string> Top(int count) =>
        _bytesByType.OrderByDescending(p => p.Value).Take(count).Select(p => $"{p.Key}: {p.Value / 1024} KB sampled");
}
