using EdgeAgent.Daemon.Inference;
using EdgeAgent.Daemon.Models;

namespace EdgeAgent.Tests.Support;

/// <summary>
/// A stand-in bundle format for daemon tests that must not depend on the compression library: a text file
/// <c>name=..\nversion=..\nsignature=ok|bad\nloads=yes|no</c>. Its verifier and engine factory behave like the
/// real ones (refuse bad signatures, fail to load broken models) so store and host logic can be exercised.
/// </summary>
public static class TextBundle
{
    public static string Write(string directory, string name, string version, bool signed = true, bool loads = true, string? extra = null)
    {
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, $"{name}-{version}-{Guid.NewGuid():N}.eab");
        File.WriteAllText(path, $"name={name}\nversion={version}\nsignature={(signed ? "ok" : "bad")}\nloads={(loads ? "yes" : "no")}\n{extra}");
        return path;
    }

    public static Dictionary<string, string> Read(string path) =>
        File.ReadAllLines(path).Where(l => l.Contains('=')).ToDictionary(l => l[..l.IndexOf('=')], l => l[(l.IndexOf('=') + 1)..]);

    public sealed class Verifier : IBundleVerifier
    {
        public BundleVerification Verify(string bundlePath)
        {
            Dictionary<string, string> fields;
            try
            {
                fields = Read(bundlePath);
            }
            catch (IOException e)
            {
                return BundleVerification.Refuse(e.Message);
            }
            if (!fields.TryGetValue("name", out var name) || !fields.TryGetValue("version", out var version))
                return BundleVerification.Refuse("not a bundle");
            return fields.GetValueOrDefault("signature") == "ok"
                ? BundleVerification.Accept(name, version)
                : BundleVerification.Refuse("signature does not verify against any trusted key");
        }
    }

    public sealed class EngineFactory(int windowSize = 32, int channels = 3) : IInferenceEngineFactory
    {
        public int Loads { get; private set; }

        public IInferenceEngine Load(string bundlePath, string name, string version)
        {
            var fields = Read(bundlePath);
            if (fields.GetValueOrDefault("loads") != "yes") throw new ModelLoadException($"{name} {version}: graph has an unsupported op");
            Loads++;
            return new EnergyEngine(name, version, windowSize, channels);
        }
    }
}

/// <summary>
/// A deterministic engine for daemon tests: class 0 "quiet" when the window's mean square is small, class 1
/// "loud" otherwise; the embedding is the per-channel mean square. Allocation-free like a real engine.
/// </summary>
public sealed class EnergyEngine(string name, string version, int windowSize, int channels) : IInferenceEngine
{
    public ModelDescriptor Model { get; } = new()
    {
        Name = name,
        Version = version,
        WindowSize = windowSize,
        Channels = channels,
        ClassNames = ["quiet", "loud"],
        EmbeddingLength = channels,
        Preprocessing = Preprocessing.Identity(channels),
    };

    public int Runs { get; private set; }
    public bool Disposed { get; private set; }

    public void Run(ReadOnlySpan<float> input, Span<float> scores, Span<float> embedding)
    {
        Runs++;
        float total = 0;
        for (int c = 0; c < channels; c++)
        {
            float sum = 0;
            for (int t = 0; t < windowSize; t++) sum += input[t * channels + c] * input[t * channels + c];
            embedding[c] = sum / windowSize;
            total += embedding[c];
        }
        float energy = total / channels;
        scores[0] = 4 * (0.1f - energy);
        scores[1] = 4 * (energy - 0.1f);
    }

    public void Dispose() => Disposed = true;
}
