using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Execution;

/// <summary>Graph rewrites applied before planning. Each pass keeps the graph's outputs unchanged.</summary>
public static class GraphOptimizer
{
    public static void Optimize(OnnxModel model)
    {
        BatchNormFolding.Run(model.Graph);
        QdqFusion.Run(model.Graph, model.OnnxOpset);
        ActivationFusion.Run(model.Graph, model.OnnxOpset);
        DeadNodeElimination.Run(model.Graph);
    }
}
