using System.Text.Json.Nodes;

namespace EdgeAgent.Daemon.Learning;

/// <summary>What one learner run ended in.</summary>
public enum LearningVerdict
{
    /// <summary>The gate accepted the candidate; it was installed and is served.</summary>
    Accepted,
    /// <summary>The gate rejected the candidate; the current model keeps serving.</summary>
    Rejected,
    /// <summary>Nothing to learn from yet (no model, no labels, no held-out slice).</summary>
    Skipped,
    /// <summary>Stopped by shutdown before it finished; nothing changed.</summary>
    Abandoned,
    /// <summary>An error (unusable model, install failure); nothing changed.</summary>
    Failed,
}

/// <summary>One learner run: its verdict, a sentence saying why, and the event data (null when skipped).</summary>
public sealed record LearningOutcome(LearningVerdict Verdict, string Reason, JsonObject Data)
{
    public JsonObject ToJson()
    {
        var json = (JsonObject)Data.DeepClone();
        json["verdict"] = Verdict.ToString().ToLowerInvariant();
        json["reason"] = Reason;
        return json;
    }
}

/// <summary>Event kinds the learner publishes; stable names, consumed by the MQTT layer (weight deltas).</summary>
public static class LearningEvents
{
    /// <summary>
    /// An accepted update became a new version. Data: <c>model</c>, <c>base_version</c>, <c>version</c>,
    /// <c>base_bundle</c>, <c>bundle</c> (installed bundle paths), <c>per_class</c> (training samples per
    /// label), <c>labels</c> (the new version's class order), <c>new_classes</c>, <c>accuracy</c>
    /// (<c>before</c>, <c>after</c>, <c>old_before</c>, <c>old_after</c>, <c>new_after</c>, fractions on the
    /// held-out slice), sample counts, <c>train_s</c>, <c>total_s</c>, <c>trigger</c>.
    /// </summary>
    public const string Accepted = "learning.accepted";
    /// <summary>The gate kept the current model; same data without <c>version</c>/<c>bundle</c>, plus <c>reason</c>.</summary>
    public const string Rejected = "learning.rejected";
    public const string Abandoned = "learning.abandoned";
    public const string Failed = "learning.failed";
    public const string Paused = "learning.paused";
    public const string Resumed = "learning.resumed";
}
