namespace EdgeAgent.Runtime.Training;

/// <summary>
/// A chain of layers with a fixed per-sample input shape, checked when it is built. Splits into a
/// frozen backbone and a trainable head, clones, and exports to an ONNX graph.
/// </summary>
public sealed class Network
{
    private readonly Layer[] _layers;
    private bool _training;

    public Network(int[] inputShape, IEnumerable<Layer> layers)
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        _layers = layers.ToArray();
        if (_layers.Length == 0) throw new ArgumentException("a network needs at least one layer");
        InputShape = (int[])inputShape.Clone();
        var names = new HashSet<string>();
        var counts = new Dictionary<string, int>();
        var shape = InputShape;
        for (int i = 0; i < _layers.Length; i++)
        {
            var layer = _layers[i];
            if (string.IsNullOrEmpty(layer.Name))
            {
                string stem = layer.GetType().Name.ToLowerInvariant();
                counts[stem] = counts.GetValueOrDefault(stem) + 1;
                layer.Name = $"{stem}{counts[stem]}";
                while (names.Contains(layer.Name)) layer.Name += "_";
            }
            if (!names.Add(layer.Name)) throw new ArgumentException($"two layers are named '{layer.Name}'");
            try
            {
                shape = layer.OutputShape(shape);
            }
            catch (InvalidOperationException e)
            {
                throw new ArgumentException($"layer {i} does not fit the one before it: {e.Message}", e);
            }
        }
        OutputShape = shape;
    }

    public IReadOnlyList<Layer> Layers => _layers;
    public int[] InputShape { get; }
    public int[] OutputShape { get; private set; }
    public int InputSize => TrainingTensor.ShapeSize(InputShape);
    public int OutputSize => TrainingTensor.ShapeSize(OutputShape);

    /// <summary>Training mode for every layer (batch statistics, saved activations).</summary>
    public bool Training
    {
        get => _training;
        set { _training = value; foreach (var l in _layers) l.Training = value; }
    }

    public IEnumerable<Parameter> Parameters => _layers.SelectMany(l => l.Parameters);

    /// <summary>Parameters with network-unique names ("dense1.weight").</summary>
    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters =>
        _layers.SelectMany(l => l.Parameters.Select(p => (l.Name + "." + p.Name, p)));

    public int ParameterCount => Parameters.Sum(p => p.Length);

    public void Initialize(int seed)
    {
        var random = new Random(seed);
        foreach (var l in _layers) l.Initialize(random);
    }

    public TrainingTensor Forward(TrainingTensor input)
    {
        if (!input.Shape.AsSpan(1).SequenceEqual(InputShape))
            throw new ArgumentException($"network input must be [N, {string.Join(", ", InputShape)}], got {TrainingTensor.Describe(input.Shape)}");
        var x = input;
        foreach (var l in _layers) x = l.Forward(x);
        return x;
    }

    /// <summary>Backpropagates from the output gradient; returns the input gradient when asked for.</summary>
    public TrainingTensor? Backward(TrainingTensor outputGradient, bool needInputGradient = false)
    {
        if (!_training) throw new InvalidOperationException("Backward needs Training = true during the forward pass");
        var g = outputGradient;
        for (int i = _layers.Length - 1; i >= 0; i--)
        {
            bool need = i > 0 || needInputGradient;
            var next = _layers[i].Backward(g, need);
            if (!need) return next;
            g = next!;
        }
        return g;
    }

    public void ZeroGrad()
    {
        foreach (var p in Parameters) p.ZeroGrad();
    }

    /// <summary>Outputs for <paramref name="count"/> samples stored back to back, in eval mode, in batches.</summary>
    public float[] Predict(ReadOnlySpan<float> inputs, int count, int batchSize = 256)
    {
        if (inputs.Length != count * InputSize)
            throw new ArgumentException($"expected {count}×{InputSize} input floats, got {inputs.Length}");
        bool wasTraining = _training;
        Training = false;
        var result = new float[count * OutputSize];
        var buffer = new float[Math.Min(count, batchSize) * InputSize];
        for (int start = 0; start < count; start += batchSize)
        {
            int n = Math.Min(batchSize, count - start);
            inputs.Slice(start * InputSize, n * InputSize).CopyTo(buffer);
            var y = Forward(new TrainingTensor(buffer, [n, .. InputShape]));
            y.Span.CopyTo(result.AsSpan(start * OutputSize));
        }
        Training = wasTraining;
        return result;
    }

    public Network Clone() => new(InputShape, _layers.Select(l => l.Clone()));

    /// <summary>
    /// Cuts after layer <paramref name="headStart"/> − 1: a backbone (layers before) and a head (from
    /// it on), each a deep copy. The head's input shape is the backbone's output: the embedding.
    /// </summary>
    public (Network Backbone, Network Head) Split(int headStart)
    {
        if (headStart <= 0 || headStart >= _layers.Length)
            throw new ArgumentOutOfRangeException(nameof(headStart), $"split point must be in 1..{_layers.Length - 1}");
        var backbone = new Network(InputShape, _layers[..headStart].Select(l => l.Clone()));
        var head = new Network(backbone.OutputShape, _layers[headStart..].Select(l => l.Clone()));
        return (backbone, head);
    }

    /// <summary>Joins a backbone and a head back into one network (deep copies).</summary>
    public static Network Concat(Network first, Network second)
    {
        if (!first.OutputShape.AsSpan().SequenceEqual(second.InputShape))
            throw new ArgumentException($"cannot join: first ends in {TrainingTensor.Describe(first.OutputShape)}, second expects {TrainingTensor.Describe(second.InputShape)}");
        var seen = new HashSet<string>(first._layers.Select(l => l.Name));
        var dup = second._layers.FirstOrDefault(l => seen.Contains(l.Name));
        if (dup is not null) throw new ArgumentException($"cannot join: both parts have a layer named '{dup.Name}'");
        return new Network(first.InputShape, first._layers.Select(l => l.Clone()).Concat(second._layers.Select(l => l.Clone())));
    }

    /// <summary>Recomputes the output shape after a layer changed size (head growth).</summary>
    internal void Revalidate()
    {
        var shape = InputShape;
        foreach (var l in _layers) shape = l.OutputShape(shape);
        OutputShape = shape;
    }

    /// <summary>
    /// The network as an ONNX graph (opset 17): Dense→Gemm(transB=1), Conv2d/Conv1d→Conv,
    /// MaxPool2d→MaxPool, AvgPool2d→AveragePool, GlobalAvgPool→GlobalAveragePool, BatchNorm→
    /// BatchNormalization, Relu/LeakyRelu/Sigmoid/HardSwish as named, Clip with bounds as inputs,
    /// Flatten(axis=1); <paramref name="appendSoftmax"/> adds Softmax(axis=-1) after the logits.
    /// </summary>
    public OnnxGraphSpec ToOnnxGraph(string name = "edgeagent", string inputName = "input", string outputName = "output", bool appendSoftmax = false)
    {
        var graph = new OnnxGraphBuilder();
        string value = inputName;
        foreach (var l in _layers) value = l.Export(graph, value);
        if (appendSoftmax) value = graph.Node("Softmax", "softmax", [value], OnnxAttributeSpec.Of("axis", -1L));
        var nodes = graph.Nodes.ToList();
        var last = nodes[^1];
        nodes[^1] = last with { Outputs = [outputName] };
        return new OnnxGraphSpec(name, 17, inputName, InputShape, outputName, OutputShape, nodes, graph.Initializers);
    }
}
