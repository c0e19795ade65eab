using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Ops;

namespace EdgeAgent.Runtime.Execution;

/// <summary>
/// A convolution kernel that works in NHWC inside and converts at its edges; when two of them are chained it can
/// skip the conversions and hand the image over in NHWC.
/// </summary>
internal interface INhwcKernel
{
    /// <summary>The kernel may read its image input (input #0) as NHWC instead of NCHW.</summary>
    bool CanReadNhwc { get; }

    /// <summary>The kernel may write its output (output #0) as NHWC instead of NCHW.</summary>
    bool CanWriteNhwc { get; }

    void ReadNhwc();

    void WriteNhwc();
}

/// <summary>
/// Layout choice: the graph keeps ONNX's NCHW, but where a convolution's output feeds only another convolution
/// (and is no graph output), the value in the arena holds NHWC and neither kernel transposes. Nobody else can see
/// the value, so its layout is private to the pair.
/// </summary>
internal static class NhwcChaining
{
    public static int Link(IReadOnlyList<(Node Node, OpKernel Kernel)> steps, Graph graph)
    {
        var readers = new Dictionary<string, int>(StringComparer.Ordinal);
        var producers = new Dictionary<string, INhwcKernel>(StringComparer.Ordinal);
        foreach (var (node, kernel) in steps)
        {
            foreach (var i in node.Inputs) if (i.Length > 0) readers[i] = readers.GetValueOrDefault(i) + 1;
            foreach (var a in node.Attributes)
            {
                if (a.Graph is { } g) foreach (var r in g.OuterReferences()) readers[r] = 2;
                foreach (var sg in a.Graphs) foreach (var r in sg.OuterReferences()) readers[r] = 2;
            }
            if (kernel is INhwcKernel { CanWriteNhwc: true } producer && node.Outputs.Count > 0 && node.Outputs[0].Length > 0)
                producers[node.Outputs[0]] = producer;
        }
        foreach (var o in graph.Outputs) readers[o.Name] = 2;
        int linked = 0;
        foreach (var (node, kernel) in steps)
        {
            if (kernel is not INhwcKernel { CanReadNhwc: true } consumer || node.Inputs.Count == 0) continue;
            string value = node.Inputs[0];
            if (readers.GetValueOrDefault(value) != 1 || !producers.TryGetValue(value, out var producer)) continue;
            producer.WriteNhwc();
            consumer.ReadNhwc();
            linked++;
        }
        return linked;
    }
}
