using EdgeAgent.Daemon.Configuration;

namespace EdgeAgent.Daemon.Inference;

/// <summary>
/// Chooses the engine factory: the runtime's <c>InferenceSession</c> (src/Runtime, issue 4). Until that API is
/// merged, loading fails with that reason.
/// </summary>
public static class InferenceEngines
{
    public static IInferenceEngineFactory CreateFactory(RuntimeOptions options) => new UnavailableFactory();

    private sealed class UnavailableFactory : IInferenceEngineFactory
    {
        public IInferenceEngine Load(string bundlePath, string name, string version) =>
            throw new ModelLoadException($"{name} {version}: this build has no model runtime (src/Runtime's InferenceSession is not merged yet)");
    }
}
