using EdgeAgent.Runtime;
using EdgeAgent.Runtime.Onnx;
using EdgeAgent.Runtime.Training;

namespace EdgeAgent.Checks.Training;

/// <summary>Trained networks through the runtime's ONNX writer, reader and inference session.</summary>
public static class OnnxBridgeChecks
{
    public static void Register(List<Check> checks)
    {
        checks.Add(new("training", "export.trained-network-runs-in-the-runtime-and-reloads", () =>
        {
            var network = new Network([1, 8, 8],
            [
                new Conv2d(1, 4, 3, 3, padH: 1, padW: 1), new BatchNorm(4), Clip.Relu6(), new MaxPool2d(2),
                new Conv2d(4, 4, 3, 3, padH: 1, padW: 1, groups: 4), new HardSwish(), new AvgPool2d(2), new LeakyRelu(0.1f),
                new Flatten(), new Dense(16, 6), new Sigmoid(), new Dense(6, 3),
            ]);
            network.Initialize(4);
            foreach (var p in network.Parameters) for (int i = 0; i < p.Length; i++) p.Value[i] += 0.05f * (i % 7 - 3);
            int n = 3;
            var x = GradientCheck.Uniform(n * 64, new Random(9));
            var expected = network.Predict(x, n);
            byte[] bytes = OnnxWriter.ToBytes(network.ToOnnxModel());
            var session = InferenceSession.FromBytes(bytes);
            var y = session.Run([EdgeAgent.Runtime.Ir.Tensor.FromArray<float>(x, n, 1, 8, 8)])[0].ToArray<float>();
            TrainingEngineChecks.Close(expected, y, "runtime session on the exported model", 1e-4f);
            var reloaded = OnnxModelBridge.ToNetwork(OnnxReader.Load(bytes), out bool softmax);
            Expect.True(!softmax, "no Softmax was exported");
            TrainingEngineChecks.Close(expected, reloaded.Predict(x, n), "reloaded network", 1e-6f);
        }));
    }
}
