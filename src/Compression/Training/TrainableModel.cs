using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Training;

namespace EdgeAgent.Compression.Training;

/// <summary>
/// A float chain ONNX model imported into the training engine, remembering what the export needs to
/// give back a model with the same interface: graph name, input and output names, trailing Softmax.
/// </summary>
public sealed class TrainableModel
{
    private TrainableModel(Network network, string name, string inputName, string outputName, bool endsWithSoftmax)
    {
        Network = network;
        Name = name;
        InputName = inputName;
        OutputName = outputName;
        EndsWithSoftmax = endsWithSoftmax;
    }

    public Network Network { get; }
    public string Name { get; }
    public string InputName { get; }
    public string OutputName { get; }

    /// <summary>The model's last node was a Softmax: training runs on logits, the export puts it back.</summary>
    public bool EndsWithSoftmax { get; }

    /// <summary>
    /// Imports <paramref name="model"/>; <paramref name="source"/> names it in errors. A model the engine
    /// cannot train throws <see cref="UntrainableModelException"/> naming the node and operator.
    /// </summary>
    public static TrainableModel Import(OnnxModel model, string source)
    {
        try
        {
            var spec = OnnxModelBridge.ToGraphSpec(model);
            var network = OnnxGraphImport.ToNetwork(spec, out bool softmax);
            return new TrainableModel(network, spec.Name.Length > 0 ? spec.Name : "model", spec.InputName, spec.OutputName, softmax);
        }
        catch (Exception e) when (e is NotSupportedException or ArgumentException)
        {
            throw new UntrainableModelException($"{source}: the training engine cannot import this model: {e.Message}", e);
        }
    }

    /// <summary>The trained network as an ONNX model with the imported model's interface.</summary>
    public OnnxModel Export()
    {
        var spec = Network.ToOnnxGraph(Name, InputName, OutputName, appendSoftmax: EndsWithSoftmax);
        var model = OnnxModelBridge.ToOnnxModel(spec);
        model.ProducerName = "EdgeAgent exporter";
        return model;
    }
}

/// <summary>A model the training engine cannot import; the message names the node and operator.</summary>
public sealed class UntrainableModelException(string message, Exception? inner = null) : Exception(message, inner);
