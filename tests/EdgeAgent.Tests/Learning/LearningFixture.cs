using EdgeAgent.Compression.Bundles;
using EdgeAgent.Compression.Signing;
using EdgeAgent.Daemon.Configuration;
using EdgeAgent.Daemon.Control;
using EdgeAgent.Daemon.Inference;
using EdgeAgent.Daemon.Learning;
using EdgeAgent.Daemon.Models;
using EdgeAgent.Daemon.Reservoir;
using EdgeAgent.Runtime;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;
using EdgeAgent.Runtime.Training;
using EdgeAgent.Tests.Support;

namespace EdgeAgent.Tests.Learning;

/// <summary>
/// A device in miniature for learner tests: a fleet-signed bundle whose ONNX graph is a QDQ int8 head
/// (activation Q/DQ, int8 per-channel weights with an int32 bias, ReLU, float Gemm, Softmax) over an
/// 8-value embedding, served through the real store, host and runtime <see cref="InferenceSession"/>; an
/// in-memory reservoir whose held-out slice the test controls; and Gaussian clusters as embeddings.
/// </summary>
public sealed class LearningFixture : IDisposable
{
    public const int Features = 8;
    private readonly TempDirectory _dir = new();
    private readonly float[][] _centres;

    public LearningFixture(int seed = 7)
    {
        var random = new Random(seed);
        _centres = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, Features).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray()).ToArray();
        FleetKey = BundleSigningKey.Generate();
        DeviceKey = BundleSigningKey.Generate();
        File.WriteAllText(_dir.File("fleet.pub"), FleetKey.PublicKey.ExportPem());
        StoreDirectory = _dir.File("models");
        var fleetVerifier = new SignedBundleVerifier([_dir.File("fleet.pub")], requireSignature: true);
        Verifier = new DeviceKeyBundleVerifier(fleetVerifier, DeviceKey.PublicKey, "vibration",
            (name, version) => File.Exists(Path.Combine(StoreDirectory, name, version, ModelStore.BundleFileName)));
        Store = new ModelStore(StoreDirectory, 3, Verifier, TimeProvider.System);
        Factory = new SessionEngineFactory();
        Host = new ModelHost("vibration", Store, Verifier, Factory, Events, TimeProvider.System);
    }

    public BundleSigningKey FleetKey { get; }
    public BundleSigningKey DeviceKey { get; }
    public string StoreDirectory { get; }
    public IBundleVerifier Verifier { get; }
    public ModelStore Store { get; }
    public SessionEngineFactory Factory { get; }
    public ModelHost Host { get; }
    public RecordingSink Events { get; } = new();
    public IReadOnlyList<DaemonEvent> Published => Events.Snapshot();
    public MemoryReservoir Reservoir { get; } = new();
    public string StagingDirectory => _dir.File("staging");

    public float[] Sample(int cls, Random random)
    {
        var x = new float[Features];
        for (int i = 0; i < Features; i++) x[i] = _centres[cls][i] + (float)(random.NextDouble() - 0.5) * 0.8f;
        return x;
    }

    /// <summary>Trains a float head on classes a and b, quantizes it into a QDQ graph and serves it as 1.0.0.</summary>
    public async Task ServeBaseModelAsync()
    {
        var random = new Random(1);
        var head = new Network([Features], [new Dense(Features, 16), new Relu(), new Dense(16, 2)]);
        head.Initialize(3);
        var train = Enumerable.Range(0, 200).Select(i => new LabeledEmbedding(Sample(i % 2, random), i % 2)).ToList();
        var trained = HeadLearner.Update(head, new UpdateData(train, [], train), new LearnerOptions { GateEnabled = false, Epochs = 20, RequantizeHead = false });
        string path = _dir.File("base.eab");
        File.WriteAllBytes(path, Pack(trained.Head, "1.0.0"));
        await Host.DeployAsync(path, allowDowngrade: false, parent: null, reason: "test base", CancellationToken.None);
    }

    private byte[] Pack(Network head, string version)
    {
        var fc1 = (Dense)head.Layers[0];
        var fc2 = (Dense)head.Layers[2];
        var g = new Graph { Name = "head" };
        g.Inputs.Add(ValueInfo.Of("embedding", DataType.Float, 1, Features));
        g.Outputs.Add(ValueInfo.Of("probs", DataType.Float, 1, fc2.Outputs));
        const float inputScale = 4f / 127;
        g.Initializers["x_scale"] = Tensor.Scalar(inputScale);
        g.Initializers["x_zero"] = Tensor.Scalar<sbyte>(0);
        g.Nodes.Add(new Node("QuantizeLinear", ["embedding", "x_scale", "x_zero"], ["x_q"], "x_QuantizeLinear"));
        g.Nodes.Add(new Node("DequantizeLinear", ["x_q", "x_scale", "x_zero"], ["x_dq"], "x_DequantizeLinear"));
        var q = HeadQuantizer.Quantize(head).Weights[0];
        g.Initializers["w1_q"] = Tensor.FromArray<sbyte>(q.Values, 16, Features);
        g.Initializers["w1_scale"] = Tensor.FromArray<float>(q.Scales, 16);
        g.Initializers["w1_zero"] = Tensor.FromArray<sbyte>(new sbyte[16], 16);
        g.Nodes.Add(new Node("DequantizeLinear", ["w1_q", "w1_scale", "w1_zero"], ["w1"], "w1_DequantizeLinear").With(NodeAttribute.Of("axis", 0L)));
        var biasScale = q.Scales.Select(s => s * inputScale).ToArray();
        g.Initializers["b1_q"] = Tensor.FromArray<int>(fc1.Bias.Value.Select((b, i) => (int)MathF.Round(b / biasScale[i])).ToArray(), 16);
        g.Initializers["b1_scale"] = Tensor.FromArray<float>(biasScale, 16);
        g.Initializers["b1_zero"] = Tensor.FromArray<int>(new int[16], 16);
        g.Nodes.Add(new Node("DequantizeLinear", ["b1_q", "b1_scale", "b1_zero"], ["b1"], "b1_DequantizeLinear").With(NodeAttribute.Of("axis", 0L)));
        g.Nodes.Add(new Node("Gemm", ["x_dq", "w1", "b1"], ["h1"], "fc1").With(NodeAttribute.Of("transB", 1L)));
        g.Nodes.Add(new Node("Relu", ["h1"], ["h2"], "relu1"));
        g.Initializers["w2"] = Tensor.FromArray<float>(fc2.Weight.Value, fc2.Outputs, 16);
        g.Initializers["b2"] = Tensor.FromArray<float>(fc2.Bias.Value, fc2.Outputs);
        g.Nodes.Add(new Node("Gemm", ["h2", "w2", "b2"], ["logits"], "fc2").With(NodeAttribute.Of("transB", 1L)));
        g.Nodes.Add(new Node("Softmax", ["logits"], ["probs"], "softmax").With(NodeAttribute.Of("axis", -1L)));
        var model = OnnxModel.Create(g, 17);
        var manifest = new BundleManifest
        {
            Name = "vibration",
            Version = version,
            ModelFormat = "onnx",
            ModelSha256 = "",
            ModelBytes = 0,
            Inputs = [new TensorSpec { Name = "embedding", ElementType = "float32", Shape = [1, Features] }],
            Outputs = [new TensorSpec { Name = "probs", ElementType = "float32", Shape = [1, fc2.Outputs] }],
            Labels = ["a", "b"],
            Trainable = new TrainableHead { Nodes = ["fc1", "relu1", "fc2", "softmax"], Initializers = ["w1_q", "w1_scale", "b1_q", "b1_scale", "w2", "b2"] },
            CreatedUtc = "2026-01-01T00:00:00Z",
            Producer = "learner tests",
        };
        return ModelBundle.Create(manifest, OnnxWriter.ToBytes(model), FleetKey);
    }

    public HeadUpdater Updater(LearningOptions? options = null) =>
        new(Host, Reservoir, Events, DeviceKey, options ?? new LearningOptions { Epochs = 30, TimeBudgetSeconds = 30 }, StagingDirectory, TimeProvider.System);

    /// <summary>The served engine's class for one embedding.</summary>
    public string Classify(float[] embedding)
    {
        var served = Host.Current!;
        var scores = new float[served.Descriptor.ClassCount];
        served.Engine.Run(embedding, scores, []);
        return served.Descriptor.ClassNames[Array.IndexOf(scores, scores.Max())];
    }

    public void Dispose()
    {
        Host.Dispose();
        FleetKey.Dispose();
        DeviceKey.Dispose();
        _dir.Dispose();
    }
}

/// <summary>Serves a bundle's ONNX model with the runtime's <see cref="InferenceSession"/>; the input is the embedding.</summary>
public sealed class SessionEngineFactory : IInferenceEngineFactory
{
    public int Loads { get; private set; }

    public IInferenceEngine Load(string bundlePath, string name, string version)
    {
        var bundle = ModelBundle.ReadFile(bundlePath);
        Loads++;
        return new SessionEngine(bundle, InferenceSession.FromBytes(bundle.Model.ToArray()));
    }

    private sealed class SessionEngine(ModelBundle bundle, InferenceSession session) : IInferenceEngine
    {
        private readonly Tensor _input = Tensor.Allocate(DataType.Float, [1, LearningFixture.Features]);

        public ModelDescriptor Model { get; } = new()
        {
            Name = bundle.Manifest.Name,
            Version = bundle.Manifest.Version,
            WindowSize = 1,
            Channels = LearningFixture.Features,
            ClassNames = bundle.Manifest.Labels,
            EmbeddingLength = LearningFixture.Features,
            Preprocessing = Preprocessing.Identity(LearningFixture.Features),
            OutputsProbabilities = true,
        };

        public void Run(ReadOnlySpan<float> input, Span<float> scores, Span<float> embedding)
        {
            input.CopyTo(_input.Span<float>());
            session.Run([_input])[0].Span<float>().CopyTo(scores);
            if (embedding.Length > 0) input.CopyTo(embedding);
        }

        public void Dispose() { }
    }
}

/// <summary>A reservoir in memory whose held-out slice is chosen by the test (the real one is tested on its own).</summary>
public sealed class MemoryReservoir : IReservoir
{
    private readonly List<ReservoirSample> _labelled = [];
    private long _next, _labelsAdded;
    private float[]? _latest;

    public void Add(float[] embedding, string label, bool heldOut, DateTimeOffset? labelledAt = null)
    {
        lock (_labelled)
        {
            var at = labelledAt ?? DateTimeOffset.UtcNow;
            _labelled.Add(new ReservoirSample(++_next, at, at, at, "1.0.0", LearningFixture.Features, embedding, embedding, label, at, heldOut));
            _labelsAdded++;
        }
    }

    public long LabelsAdded { get { lock (_labelled) return _labelsAdded; } }

    public IReadOnlyList<ReservoirSample> ReadLabelled(bool heldOut, int max = int.MaxValue)
    {
        lock (_labelled) return _labelled.Where(s => s.HeldOut == heldOut).Take(max).ToList();
    }

    public IReadOnlyList<ReservoirSample> ReadUnlabelled(int max = int.MaxValue) => [];

    public ReservoirStats GetStats()
    {
        lock (_labelled)
            return new ReservoirStats(0, _labelled.Count, _labelled.Count(s => s.HeldOut), _labelled.Count, 0, 0,
                _labelled.GroupBy(s => s.Label!).ToDictionary(g => g.Key, g => (long)g.Count()), 0);
    }

    public void Offer(in ReservoirOffer offer, ReadOnlySpan<float> window, ReadOnlySpan<float> embedding)
    {
        lock (_labelled) _latest = embedding.ToArray();
    }

    public long LabelLatest(string label)
    {
        float[] latest;
        lock (_labelled) latest = _latest ?? throw new InvalidOperationException("no window has been inferred yet; nothing to label");
        Add(latest, label, heldOut: false);
        lock (_labelled) return _next;
    }

    public bool Label(long sampleId, string label) => false;

    public IReadOnlyList<string> CheckConsistency() => [];
}

public sealed class RecordingSink : IEventSink
{
    private readonly List<DaemonEvent> _events = [];

    public void Publish(DaemonEvent daemonEvent)
    {
        lock (_events) _events.Add(daemonEvent);
    }

    public IReadOnlyList<DaemonEvent> Snapshot()
    {
        lock (_events) return [.. _events];
    }
}
