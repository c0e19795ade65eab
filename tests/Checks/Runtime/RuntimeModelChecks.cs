using EdgeAgent.Runtime;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;

namespace EdgeAgent.Checks.Runtime;

/// <summary>ONNX round trips and end-to-end model runs (also run under qemu by the ARM64 harness).</summary>
public static class RuntimeModelChecks
{
    public static void Register(List<Check> checks)
    {
        checks.Add(new("runtime", "onnx.write-read-round-trip", () =>
        {
            var model = TestModels.Mlp();
            model.Metadata["author"] = "checks";
            var bytes = OnnxWriter.ToBytes(model);
            var back = OnnxReader.Load(bytes);
            Expect.Equal(17L, back.OnnxOpset, "opset");
            Expect.Equal("checks", back.Metadata["author"], "metadata");
            Expect.Equal(model.Graph.Nodes.Count, back.Graph.Nodes.Count, "node count");
            for (int i = 0; i < model.Graph.Nodes.Count; i++)
            {
                Expect.Equal(model.Graph.Nodes[i].ToString(), back.Graph.Nodes[i].ToString(), $"node {i}");
                Expect.Equal(string.Join(";", model.Graph.Nodes[i].Attributes), string.Join(";", back.Graph.Nodes[i].Attributes), $"attributes of node {i}");
            }
            foreach (var (name, t) in model.Graph.Initializers)
            {
                var u = back.Graph.Initializers[name];
                Expect.Equal(t.ToString(), u.ToString(), $"initializer {name}");
                Expect.SequenceEqual<byte>(t.Bytes, u.Bytes, $"initializer {name} bytes");
            }
            Expect.Equal(model.Graph.Inputs[0].ToString(), back.Graph.Inputs[0].ToString(), "input value info");
            // Writing what was read gives the same bytes: nothing is lost or reordered.
            Expect.SequenceEqual<byte>(bytes, OnnxWriter.ToBytes(back), "second write");
        }));

        checks.Add(new("runtime", "session.mlp-matches-reference", () =>
        {
            var model = TestModels.Mlp();
            var session = InferenceSession.FromBytes(OnnxWriter.ToBytes(model));
            for (int seed = 10; seed < 13; seed++)
            {
                var x = TestModels.Random(12, seed);
                var y = session.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray<float>(x, 1, 12) })[0];
                var expected = TestModels.MlpReference(model, x);
                Expect.Equal("float32[1,4]", y.ToString(), "output");
                var actual = y.ToArray<float>();
                for (int i = 0; i < expected.Length; i++)
                    Expect.True(Math.Abs(actual[i] - expected[i]) < 1e-5f, $"probability {i}: {actual[i]} vs {expected[i]}");
            }
        }));

        checks.Add(new("runtime", "onnx.truncated-model-is-a-clean-error", () =>
        {
            var bytes = OnnxWriter.ToBytes(TestModels.Mlp());
            int clean = 0;
            for (int cut = 0; cut < bytes.Length; cut += 7)
            {
                try
                {
                    var m = OnnxReader.Load(bytes[..cut]);
                    _ = InferenceSession.FromModel(m);
                }
                catch (ModelLoadException) { clean++; }
            }
            Expect.True(clean > 0, "truncations were rejected");
        }));
    }
}
