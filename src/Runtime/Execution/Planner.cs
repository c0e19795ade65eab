using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;
using EdgeAgent.Runtime.Ops;

namespace EdgeAgent.Runtime.Execution;

/// <summary>
/// Compiles a graph for given input shapes: shape inference node by node, constant folding of
/// everything computable before Run, and the memory plan (lifetimes → arena offsets, greedy by size).
/// </summary>
public static class Planner
{
    private const int Alignment = 64;

    /// <param name="inputs">Per runtime input: its type and shape, and its value when planning one Run eagerly.</param>
    public static ExecutionPlan Build(Graph graph, long opset, IReadOnlyList<ValueState> inputs, LoadLimits? limits = null,
        KernelResources? resources = null)
    {
        limits ??= LoadLimits.Default;
        var runtimeInputs = graph.RuntimeInputs.ToList();
        if (inputs.Count != runtimeInputs.Count) throw new ArgumentException($"{inputs.Count} input states for {runtimeInputs.Count} inputs");
        var states = new Dictionary<string, ValueState>(StringComparer.Ordinal);
        foreach (var (name, t) in graph.Initializers) states[name] = ValueState.Of(t);
        for (int i = 0; i < runtimeInputs.Count; i++) states[runtimeInputs[i].Name] = inputs[i];

        var pending = new List<(Node node, OpKernel kernel, ValueState?[] outs)>();
        int folded = 0;
        foreach (var node in graph.Nodes)
        {
            var compiler = OperatorRegistry.Find(node)
                ?? throw new ModelLoadException($"node '{node.DisplayName}': operator {node.Domain}:{node.OpType} is not supported");
            var ins = new ValueState?[node.Inputs.Count];
            bool allConstant = true;
            for (int k = 0; k < ins.Length; k++)
            {
                string name = node.Inputs[k];
                if (name.Length == 0) continue;
                if (!states.TryGetValue(name, out var st))
                    throw new ModelLoadException($"node '{node.DisplayName}': field 'input' #{k}: value '{name}' is not defined");
                ins[k] = st;
                allConstant &= st.Constant is not null;
            }
            var ctx = new CompileContext(node, opset, ins, limits.MaxTensorBytes, resources);
            OpKernel kernel;
            try { kernel = compiler(ctx); }
            catch (Exception e) when (e is not (ModelLoadException or ShapeDependsOnValuesException or OutOfMemoryException))
            {
                // Inconsistent attributes or inputs that an operator did not anticipate are still load errors.
                throw ctx.Error("inputs", $"{e.GetType().Name}: {e.Message}");
            }
            var outs = new ValueState?[node.Outputs.Count];
            for (int k = 0; k < outs.Length; k++)
            {
                if (node.Outputs[k].Length == 0) continue;
                outs[k] = ctx.Output(k) ?? throw ctx.Error($"output #{k}", "the operator does not produce this output");
            }
            if (allConstant)
            {
                var outTensors = new Tensor[outs.Length];
                for (int k = 0; k < outs.Length; k++)
                    outTensors[k] = outs[k] is { } o ? Allocate(o, ctx) : Tensor.Allocate(DataType.Float, [0]);
                var inTensors = new Tensor?[ins.Length];
                for (int k = 0; k < ins.Length; k++) inTensors[k] = ins[k]?.Constant;
                try { kernel.Run(inTensors, outTensors); }
                catch (Exception e) when (e is not (ModelLoadException or OutOfMemoryException))
                {
                    throw ctx.Error("constant folding", $"{e.GetType().Name}: {e.Message}");
                }
                for (int k = 0; k < outs.Length; k++)
                    if (node.Outputs[k].Length > 0) states[node.Outputs[k]] = ValueState.Of(outTensors[k]);
                folded++;
                continue;
            }
            for (int k = 0; k < outs.Length; k++)
                if (outs[k] is { } o) states[node.Outputs[k]] = o;
            pending.Add((node, kernel, outs));
        }

        NhwcChaining.Link(pending.Select(p => (p.node, p.kernel)).ToList(), graph);

        // Values an AliasKernel produces share their input's bytes: they map to a root value, and the root lives
        // as long as any of its names.
        var graphOutputNames = new HashSet<string>(graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        var root = new Dictionary<string, string>(StringComparer.Ordinal);
        string Root(string name) => root.TryGetValue(name, out var r) ? r : name;
        var aliased = new bool[pending.Count];
        var birth = new Dictionary<string, int>(StringComparer.Ordinal);
        var death = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var i in runtimeInputs) { birth[i.Name] = -1; death[i.Name] = -1; }
        for (int s = 0; s < pending.Count; s++)
        {
            var (node, kernel, outs) = pending[s];
            if (kernel is AliasKernel && node.Inputs.Count > 0 && birth.ContainsKey(Root(node.Inputs[0])) && outs.Length == 1
                && node.Outputs[0].Length > 0 && outs[0] is { } aliasOut && ByteSize(aliasOut) == ByteSize(states[node.Inputs[0]]))
            {
                string r = Root(node.Inputs[0]);
                root[node.Outputs[0]] = r;
                death[r] = Math.Max(death[r], s);
                aliased[s] = true;
                continue;
            }
            foreach (var i in node.Inputs) if (i.Length > 0 && death.ContainsKey(Root(i))) death[Root(i)] = Math.Max(death[Root(i)], s);
            foreach (var o in node.Outputs) if (o.Length > 0) { birth[o] = s; death[o] = s; }
        }
        foreach (var o in graph.Outputs) if (death.ContainsKey(Root(o.Name))) death[Root(o.Name)] = pending.Count;

        var order = birth.Keys.Select(name => (name, bytes: ByteSize(states[name])))
            .OrderByDescending(v => v.bytes).ThenBy(v => birth[v.name]).ToList();
        var placed = new List<(int start, int end, long offset, long bytes)>();
        var offsets = new Dictionary<string, long>(StringComparer.Ordinal);
        long arenaBytes = 0;
        foreach (var (name, bytes) in order)
        {
            int b = birth[name], d = death[name];
            long offset = 0;
            if (bytes > 0)
            {
                var overlapping = placed.Where(p => p.start <= d && b <= p.end && p.bytes > 0).OrderBy(p => p.offset).ToList();
                foreach (var p in overlapping)
                {
                    if (offset + bytes <= p.offset) break;
                    offset = Math.Max(offset, Align(p.offset + p.bytes));
                }
            }
            placed.Add((b, d, offset, bytes));
            offsets[name] = offset;
            arenaBytes = Math.Max(arenaBytes, offset + bytes);
        }
        if (arenaBytes > Math.Min(int.MaxValue, limits.MaxModelBytes))
            throw new ModelLoadException($"graph '{graph.Name}': intermediate tensors need {arenaBytes} bytes at once, more than the limit of {Math.Min(int.MaxValue, limits.MaxModelBytes)}");
        var arena = new byte[arenaBytes];
        var views = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, offset) in offsets)
            views[name] = Tensor.View(states[name].Type, states[name].Shape, arena, (int)offset);
        foreach (var (name, r) in root)
            views[name] = Tensor.View(states[name].Type, states[name].Shape, arena, (int)offsets[r]);

        Tensor? Bound(string name) => name.Length == 0 ? null
            : views.TryGetValue(name, out var v) ? v : states[name].Constant;

        var steps = new List<PlanStep>(pending.Count);
        var aliasSteps = new List<PlanStep>();
        for (int s = 0; s < pending.Count; s++)
        {
            var (node, kernel, outs) = pending[s];
            var ins = node.Inputs.Select(Bound).ToArray();
            var outputs = new Tensor[outs.Length];
            for (int k = 0; k < outs.Length; k++)
                outputs[k] = node.Outputs[k].Length > 0 ? views[node.Outputs[k]] : Tensor.Allocate(outs[k]?.Type ?? DataType.Float, outs[k]?.Shape ?? [0]);
            (aliased[s] ? aliasSteps : steps).Add(new PlanStep(node, kernel, ins, outputs));
        }

        // Where the steps read each graph input: Run can point them at the caller's tensor instead of copying it
        // into the arena, unless the input is also visible as an output or through an alias.
        var inputSlots = new (int Step, int Slot)[runtimeInputs.Count][];
        for (int k = 0; k < runtimeInputs.Count; k++)
        {
            string name = runtimeInputs[k].Name;
            if (graphOutputNames.Contains(name) || root.ContainsValue(name)) { inputSlots[k] = []; continue; }
            var slots = new List<(int, int)>();
            for (int s = 0; s < steps.Count; s++)
                for (int j = 0; j < steps[s].Node.Inputs.Count; j++)
                    if (steps[s].Node.Inputs[j] == name) slots.Add((s, j));
            inputSlots[k] = [.. slots];
        }
        return new ExecutionPlan
        {
            Steps = [.. steps],
            AliasSteps = [.. aliasSteps],
            InputSlots = inputSlots,
            InputViews = runtimeInputs.Select(i => views[i.Name]).ToArray(),
            OutputViews = graph.Outputs.Select(o => Bound(o.Name) ?? throw new ModelLoadException($"graph output '{o.Name}' is not produced")).ToArray(),
            InputShapes = inputs.Select(i => i.Shape).ToArray(),
            ArenaBytes = arenaBytes,
            FoldedNodes = folded,
        };
    }

    private static Tensor Allocate(ValueState o, CompileContext ctx)
    {
        try { return Tensor.Allocate(o.Type, o.Shape); }
        catch (ArgumentException e) { throw ctx.Error("output", e.Message); }
        catch (NotSupportedException e) { throw ctx.Error("output", e.Message); }
    }

    private static long ByteSize(ValueState s)
    {
        long n = s.Type.SizeOf();
        foreach (var d in s.Shape) n *= d;
        return n;
    }

    private static long Align(long v) => (v + Alignment - 1) / Alignment * Alignment;
}
