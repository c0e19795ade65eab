using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Training;

namespace EdgeAgent.Compression.Models;

/// <summary>
/// Turns the training engine's graph description into the runtime's ONNX object model, so a trained
/// network can be written with OnnxWriter, quantized and packed. The batch dimension stays symbolic.
/// </summary>
public static class TrainedModelExport
{
    public static OnnxModel ToOnnxModel(OnnxGraphSpec spec)
    {
        var graph = new Graph { Name = spec.Name };
        graph.Inputs.Add(new ValueInfo(spec.InputName, DataType.Float, [Dim.Symbolic("N"), .. spec.InputShape.Select(d => Dim.Known(d))]));
        graph.Outputs.Add(new ValueInfo(spec.OutputName, DataType.Float, [Dim.Symbolic("N"), .. spec.OutputShape.Select(d => Dim.Known(d))]));
        foreach (var init in spec.Initializers)
            graph.Initializers[init.Name] = Tensor.FromArray<float>(init.Data, init.Shape);
        foreach (var n in spec.Nodes)
        {
            var node = new Node(n.OpType, n.Inputs, n.Outputs, n.Name);
            foreach (var a in n.Attributes)
            {
                if (a.Int is { } i) node.With(NodeAttribute.Of(a.Name, i));
                else if (a.Float is { } f) node.With(NodeAttribute.Of(a.Name, f));
                else if (a.Ints is { } ints) node.With(NodeAttribute.Of(a.Name, ints));
                else if (a.String is { } s) node.With(NodeAttribute.Of(a.Name, s));
            }
            graph.Nodes.Add(node);
        }
        var model = OnnxModel.Create(graph, spec.Opset);
        model.ProducerName = "EdgeAgent exporter";
        return model;
    }
}
