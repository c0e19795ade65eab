using EdgeAgent.Runtime.Execution;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;
using EdgeAgent.Runtime.Ops;

namespace EdgeAgent.Runtime;

/// <summary>Which implementation runs one node of the compiled graph.</summary>
public sealed record NodeReport(string Node, string OpType, string KernelPath);

/// <summary>
/// Loads an ONNX model and runs it. The graph is compiled for the input shapes it declares (or, when
/// they are symbolic, for the shapes of the first Run): constants folded, intermediate tensors planned
/// in one arena, kernels bound. Later Runs with the same shapes allocate nothing.
/// Not thread-safe: one Run at a time per session.
/// </summary>
public sealed class InferenceSession : IDisposable
{
    private readonly KernelResources _resources;
    private readonly Graph _graph;
    private readonly long _opset;
    private readonly ValueInfo[] _inputs;
    private ExecutionPlan? _plan;
    private bool _valueDependent;
    private Tensor[]? _eagerOutputs;
    private readonly Tensor[] _feed;

    public OnnxModel Model { get; }
    public SessionOptions Options { get; }
    public IReadOnlyList<ValueInfo> Inputs => _inputs;
    public IReadOnlyList<ValueInfo> Outputs => _graph.Outputs;

    private InferenceSession(OnnxModel model, SessionOptions options)
    {
        Model = model;
        Options = options;
        if (options.Threads < 1) throw new ArgumentException($"SessionOptions.Threads must be at least 1, got {options.Threads}");
        _resources = new KernelResources(EdgeAgent.Kernels.KernelTable.Current, options.Threads > 1 ? new EdgeAgent.Kernels.WorkerPool(options.Threads) : null);
        _graph = model.Graph;
        _opset = model.OnnxOpset;
        var unsupported = OperatorRegistry.Unsupported(_graph);
        if (unsupported.Count > 0)
            throw new ModelLoadException($"the model uses operators this runtime does not implement: {string.Join(", ", unsupported)}") { IsUnsupportedFeature = true };
        if (_opset == 0 && _graph.Nodes.Count > 0) throw new ModelLoadException("model: field 'opset_import' declares no default-domain (ai.onnx) opset");
        if (_opset > OperatorRegistry.MaxOpset)
            throw new ModelLoadException($"model: field 'opset_import': ai.onnx opset {_opset} is newer than the newest supported ({OperatorRegistry.MaxOpset})") { IsUnsupportedFeature = true };
        AddExtraOutputs(_graph, options.ExtraOutputs);
        if (options.Optimize) GraphOptimizer.Optimize(model);
        _inputs = _graph.RuntimeInputs.ToArray();
        _feed = new Tensor[_inputs.Length];
        foreach (var i in _inputs)
            if (!i.ElementType.IsStorable()) throw new ModelLoadException($"graph input '{i.Name}': element type {i.ElementType.ToName()} is not supported") { IsUnsupportedFeature = true };
        // Plan now when every input shape is fixed; otherwise at the first Run.
        var shapes = _inputs.Select(i => i.ConcreteShape()).ToArray();
        if (shapes.All(s => s is not null))
        {
            var states = _inputs.Select((i, k) => new ValueState(i.ElementType, shapes[k]!)).ToArray();
            TryPlan(states);
        }
    }

    // Declared before optimising, so that passes which keep the graph's outputs keep these values too.
    private static void AddExtraOutputs(Graph graph, IReadOnlyList<string> names)
    {
        foreach (var name in names)
        {
            if (graph.Outputs.Any(o => o.Name == name)) throw new ModelLoadException($"extra output '{name}' is already an output of graph '{graph.Name}'");
            if (!graph.Nodes.Any(n => n.Outputs.Contains(name)))
                throw new ModelLoadException($"extra output '{name}': no node of graph '{graph.Name}' produces a value of that name");
            graph.Outputs.Add(new ValueInfo(name, DataType.Undefined, null));
        }
    }

    public static InferenceSession Load(string path, SessionOptions? options = null)
    {
        options ??= new SessionOptions();
        return new InferenceSession(OnnxReader.Load(path, options.Limits), options);
    }

    public static InferenceSession FromBytes(byte[] model, SessionOptions? options = null)
    {
        options ??= new SessionOptions();
        return new InferenceSession(OnnxReader.Load(model, null, options.Limits), options);
    }

    /// <summary>Runs an already decoded model (the session may rewrite its graph when optimising).</summary>
    public static InferenceSession FromModel(OnnxModel model, SessionOptions? options = null) =>
        new(model, options ?? new SessionOptions());

    /// <summary>The compiled nodes and the kernel path each one runs on (empty until planned).</summary>
    public IReadOnlyList<NodeReport> Report =>
        _plan?.StepList.Select(s => new NodeReport(s.Node.DisplayName, s.Node.OpType, s.Kernel.Path))
            .Concat(_plan.AliasStepList.Select(s => new NodeReport(s.Node.DisplayName, s.Node.OpType, "alias"))).ToList()
        ?? (IReadOnlyList<NodeReport>)[];

    /// <summary>The current plan (null before the first plan, or when shapes depend on input values).</summary>
    public ExecutionPlan? Plan => _plan;

    /// <summary>True when output shapes depend on input values, so every Run is planned anew (and allocates).</summary>
    public bool IsValueDependent => _valueDependent;

    private bool TryPlan(ValueState[] states)
    {
        try
        {
            _plan = Planner.Build(_graph, _opset, states, Options.Limits, _resources);
            return true;
        }
        catch (ShapeDependsOnValuesException)
        {
            _valueDependent = true;
            _plan = null;
            return false;
        }
    }

    /// <summary>
    /// Runs the model on named inputs. Returns the outputs in <see cref="Outputs"/> order; they are
    /// views into the session's memory, valid until the next Run (copy them to keep them).
    /// </summary>
    public IReadOnlyList<Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs)
    {
        var values = _feed;
        for (int k = 0; k < _inputs.Length; k++)
        {
            var info = _inputs[k];
            if (!inputs.TryGetValue(info.Name, out var t)) throw new ArgumentException($"input '{info.Name}' is missing");
            values[k] = t;
        }
        if (inputs.Count != _inputs.Length)
            foreach (var name in inputs.Keys)
                if (Array.FindIndex(_inputs, i => i.Name == name) < 0) throw new ArgumentException($"the model has no input '{name}'");
        return Run(values);
    }

    /// <summary>Runs the model on inputs given in <see cref="Inputs"/> order (no dictionary, no allocation once planned).</summary>
    public IReadOnlyList<Tensor> Run(Tensor[] inputs)
    {
        if (inputs.Length != _inputs.Length) throw new ArgumentException($"{inputs.Length} inputs given, the model has {_inputs.Length}");
        for (int k = 0; k < inputs.Length; k++) CheckInput(_inputs[k], inputs[k]);
        if (!_valueDependent && (_plan is null || !ShapesMatch(_plan, inputs)))
        {
            var states = new ValueState[inputs.Length];
            for (int k = 0; k < inputs.Length; k++) states[k] = new ValueState(inputs[k].DataType, inputs[k].Shape.ToArray());
            TryPlan(states);
        }
        if (_plan is { } plan)
        {
            plan.BindInputs(inputs);
            plan.Execute();
            return plan.OutputViews;
        }
        // Shapes depend on values: fold the whole graph with the inputs as constants.
        var eager = new ValueState[inputs.Length];
        for (int k = 0; k < inputs.Length; k++) eager[k] = ValueState.Of(inputs[k]);
        ExecutionPlan folded;
        try { folded = Planner.Build(_graph, _opset, eager, Options.Limits, _resources); }
        catch (ModelLoadException e) { throw new InferenceException(e.Message, e); }
        _eagerOutputs = folded.OutputViews;
        return _eagerOutputs;
    }

    private static bool ShapesMatch(ExecutionPlan plan, Tensor[] inputs)
    {
        for (int k = 0; k < inputs.Length; k++)
            if (!inputs[k].SameShape(plan.InputShapes[k])) return false;
        return true;
    }

    private static void CheckInput(ValueInfo info, Tensor t)
    {
        if (info.ElementType != DataType.Undefined && t.DataType != info.ElementType)
            throw new ArgumentException($"input '{info.Name}' must be {info.ElementType.ToName()}, got {t.DataType.ToName()}");
        if (info.Shape is { } shape)
        {
            bool ok = shape.Count == t.Rank;
            for (int d = 0; ok && d < shape.Count; d++)
                if (shape[d].Value is { } v && v != t.Shape[d]) ok = false;
            if (!ok) throw new ArgumentException($"input '{info.Name}' has shape {t}, the model declares [{string.Join(",", shape)}]");
        }
    }

    /// <summary>Stops the session's worker threads (sessions with Threads = 1 hold none).</summary>
    public void Dispose() => _resources.Pool?.Dispose();
}
