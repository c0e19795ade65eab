using EdgeAgent.Checks.Runtime;
using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Tests;

/// <summary>What the kernel-path tests share: one run of a single-input model, and a seeded input for it.</summary>
internal static class KernelPathRuns
{
    public static float[] Run(OnnxModel model, float[] x, int threads = 1, bool optimize = true)
    {
        using var session = InferenceSession.FromModel(model, new SessionOptions { Threads = threads, Optimize = optimize });
        var shape = session.Inputs[0].ConcreteShape()!;
        return session.Run([Tensor.FromArray<float>(x, shape)])[0].ToArray<float>();
    }

    public static float[] Input(OnnxModel model, int seed, float scale)
    {
        int count = model.Graph.Inputs[0].ConcreteShape()!.Aggregate(1, (a, b) => a * b);
        return TestModels.Random(count, seed, scale);
    }
}
