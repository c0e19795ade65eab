namespace EdgeAgent.Compression.Distribution;

/// <summary>
/// Where a transfer lives on a broker. A transfer under prefix P has its manifest at <c>P/manifest</c> and chunk i of
/// the file with hash H at <c>P/chunk/H/i</c>, all retained, so a device that connects late or reconnects after a
/// broker restart finds the whole transfer waiting. Chunks are named by the file's hash so two versions never mix.
/// </summary>
public static class TransferTopics
{
    public const string Root = "edgeagent";

    /// <summary>Models addressed to one device.</summary>
    public static string DeviceModel(string deviceId) => $"{Root}/{Segment(deviceId, "device id")}/model";

    /// <summary>Models addressed to every device of a fleet group.</summary>
    public static string FleetModel(string group) => $"{Root}/fleet/{Segment(group, "fleet group")}/model";

    /// <summary>The latest delta one device contributes to its group's next averaged version.</summary>
    public static string FleetDelta(string group, string deviceId) =>
        $"{Root}/fleet/{Segment(group, "fleet group")}/delta/{Segment(deviceId, "device id")}";

    /// <summary>Filter matching every device's delta manifest in a group.</summary>
    public static string FleetDeltaManifests(string group) => $"{Root}/fleet/{Segment(group, "fleet group")}/delta/+/manifest";

    public static string Manifest(string prefix) => prefix + "/manifest";

    public static string Chunk(string prefix, string sha256, int index) => $"{prefix}/chunk/{sha256}/{index}";

    public static string ChunkFilter(string prefix, string sha256) => $"{prefix}/chunk/{sha256}/+";

    /// <summary>Parses <c>PREFIX/chunk/SHA/INDEX</c>; false for anything else.</summary>
    public static bool TryParseChunk(string topic, string prefix, out string sha256, out int index)
    {
        sha256 = "";
        index = -1;
        if (!topic.StartsWith(prefix + "/chunk/", StringComparison.Ordinal)) return false;
        var rest = topic.AsSpan(prefix.Length + 7);
        int slash = rest.IndexOf('/');
        if (slash != 64) return false;
        sha256 = rest[..64].ToString();
        return Hex.IsSha256(sha256) && int.TryParse(rest[65..], System.Globalization.NumberStyles.None, null, out index);
    }

    /// <summary>
    /// A device id or group becomes one topic level: MQTT wildcards, separators and NUL would change what it
    /// addresses, so they are refused rather than escaped.
    /// </summary>
    public static string Segment(string value, string what)
    {
        if (string.IsNullOrEmpty(value)) throw new TransferException($"{what} is empty");
        if (value.Length > 64) throw new TransferException($"{what} '{value[..16]}...' is longer than 64 characters");
        foreach (char c in value)
            if (c is '/' or '+' or '#' or '\0' || char.IsWhiteSpace(c) || char.IsControl(c))
                throw new TransferException($"{what} '{value}' contains '{c}' (not allowed in one MQTT topic level)");
        return value;
    }
}
