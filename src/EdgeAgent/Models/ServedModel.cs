using EdgeAgent.Daemon.Inference;

namespace EdgeAgent.Daemon.Models;

/// <summary>The model being served: the store entry and the engine loaded from it.</summary>
public sealed record ServedModel(StoredModel Stored, IInferenceEngine Engine, DateTimeOffset ActivatedAt)
{
    public ModelDescriptor Descriptor => Engine.Model;
}
