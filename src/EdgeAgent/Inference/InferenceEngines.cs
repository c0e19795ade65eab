using EdgeAgent.Compression.Bundles;
using EdgeAgent.Daemon.Configuration;
using EdgeAgent.Runtime;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;
using EdgeAgent.Runtime.Ops;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RuntimeLoadException = EdgeAgent.Runtime.ModelLoadException;

namespace EdgeAgent.Daemon.Inference;

/// <summary>
/// Opens signed bundles (.eab) from the model store as engines: our runtime's <see cref="InferenceSession"/>,
/// or, for a model with operators we do not implement and only when <c>runtime:fallback</c> is set, ONNX
/// Runtime. The bundle's signature was checked by the store's verifier before this is asked; here the
/// structure and model hash are checked again, because the file is read anew.
/// </summary>
public static class InferenceEngines
{
    public static IInferenceEngineFactory CreateFactory(RuntimeOptions options, ILogger? logger = null) =>
        new BundleEngineFactory(options, logger ?? NullLogger.Instance);

    private sealed class BundleEngineFactory(RuntimeOptions options, ILogger logger) : IInferenceEngineFactory
    {
        public IInferenceEngine Load(string bundlePath, string name, string version)
        {
            string source = $"{name} {version} ({bundlePath})";
            ModelBundle bundle;
            try
            {
                bundle = ModelBundle.ReadFile(bundlePath);
            }
            catch (BundleException e)
            {
                throw new ModelLoadException($"{source}: {e.Message}", e);
            }
            catch (FileNotFoundException e)
            {
                throw new ModelLoadException($"{source}: the bundle file is missing", e);
            }
            var manifest = bundle.Manifest;
            if (manifest.ModelFormat != "onnx")
                throw new ModelLoadException($"{source}: manifest.modelFormat '{manifest.ModelFormat}' is not supported (only onnx)");

            OnnxModel model;
            try
            {
                model = OnnxReader.Load(bundle.Model.ToArray(), limits: LoadLimits.Default, fileName: Path.GetFileName(bundlePath));
            }
            catch (RuntimeLoadException e)
            {
                throw new ModelLoadException($"{source}: {e.Message}", e);
            }
            var layout = BundleModelLayout.From(manifest, model.Graph, source);
            var unsupported = OperatorRegistry.Unsupported(model.Graph);
            if (unsupported.Count > 0)
            {
                if (!options.Fallback)
                    throw new ModelLoadException($"{source}: the model uses operators this runtime does not implement: {string.Join(", ", unsupported)} (runtime:fallback=true runs it through ONNX Runtime, if installed)");
                InferenceLog.FallingBack(logger, name, version, string.Join(", ", unsupported));
                return OpenFallback(model, layout, name, version, source);
            }
            return OpenSession(model, layout, name, version, source);
        }

        private IInferenceEngine OpenSession(OnnxModel model, BundleModelLayout layout, string name, string version, string source)
        {
            InferenceSession session;
            IReadOnlyList<Tensor> outputs;
            try
            {
                session = InferenceSession.FromModel(model, new SessionOptions
                {
                    Threads = options.Threads,
                    ExtraOutputs = layout.EmbeddingValue is { } e ? [e] : [],
                });
                // Plans the session for a batch of one and proves the model runs before it is served.
                outputs = session.Run([Tensor.Allocate(DataType.Float, layout.InputShape)]);
            }
            catch (Exception e) when (e is RuntimeLoadException or InferenceException or ArgumentException)
            {
                throw new ModelLoadException($"{source}: {e.Message}", e);
            }
            if (session.IsValueDependent)
                throw new ModelLoadException($"{source}: output shapes depend on input values, so every inference would be planned anew; the daemon needs a model with fixed shapes");
            var descriptor = Describe(layout, name, version, source, outputs[0], layout.EmbeddingValue is null ? null : outputs[^1]);
            return new SessionInferenceEngine(session, descriptor, layout.InputShape, layout.EmbeddingValue is null ? -1 : outputs.Count - 1);
        }

        private IInferenceEngine OpenFallback(OnnxModel model, BundleModelLayout layout, string name, string version, string source)
        {
            if (layout.EmbeddingValue is { } embedding && model.Graph.Outputs.All(o => o.Name != embedding))
                model.Graph.Outputs.Add(new ValueInfo(embedding, DataType.Float, null));
            OnnxRuntimeFallback runtime;
            try
            {
                runtime = new OnnxRuntimeFallback(OnnxWriter.ToBytes(model), source, options.Threads);
            }
            catch (Exception e) when (e is FallbackUnavailableException or RuntimeLoadException)
            {
                throw new ModelLoadException($"{source}: needs ONNX Runtime, which cannot run it: {e.Message}", e);
            }
            try
            {
                var input = Tensor.Allocate(DataType.Float, layout.InputShape);
                var outputs = runtime.Run(new Dictionary<string, Tensor>(StringComparer.Ordinal) { [layout.InputName] = input });
                var embeddingOutput = layout.EmbeddingValue is null ? null : outputs.First(o => o.Name == layout.EmbeddingValue).Value;
                var descriptor = Describe(layout, name, version, source, outputs[0].Value, embeddingOutput);
                return new FallbackInferenceEngine(runtime, descriptor, layout.InputName, layout.InputShape, layout.EmbeddingValue);
            }
            catch (Exception e) when (e is InferenceException or InvalidOperationException or ArgumentException)
            {
                runtime.Dispose();
                throw new ModelLoadException($"{source}: ONNX Runtime could not run it: {e.Message}", e);
            }
            catch (ModelLoadException)
            {
                runtime.Dispose();
                throw;
            }
        }

        private static ModelDescriptor Describe(BundleModelLayout layout, string name, string version, string source, Tensor scores, Tensor? embedding)
        {
            if (scores.DataType != DataType.Float)
                throw new ModelLoadException($"{source}: output '{layout.ScoresName}' is {scores.DataType.ToName()}, class scores must be float32");
            if (scores.ElementCount != layout.ClassNames.Length)
                throw new ModelLoadException($"{source}: output '{layout.ScoresName}' has {scores.ElementCount} values per window ({scores}) but there are {layout.ClassNames.Length} labels");
            if (embedding is not null && embedding.DataType != DataType.Float)
                throw new ModelLoadException($"{source}: the trainable head's input '{layout.EmbeddingValue}' is {embedding.DataType.ToName()}, not float32");
            return new ModelDescriptor
            {
                Name = name,
                Version = version,
                WindowSize = layout.WindowSize,
                Channels = layout.Channels,
                ClassNames = layout.ClassNames,
                EmbeddingLength = embedding?.ElementCount ?? 0,
                Preprocessing = layout.Preprocessing,
                OutputsProbabilities = layout.OutputsProbabilities,
            };
        }
    }
}
