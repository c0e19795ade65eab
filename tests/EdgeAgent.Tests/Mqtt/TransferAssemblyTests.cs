using EdgeAgent.Compression.Distribution;
using Xunit;

namespace EdgeAgent.Tests.Mqtt;

public sealed class TransferAssemblyTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "edgeagent-transfer-" + Guid.NewGuid().ToString("N")[..8]);

    private static byte[] Data(int bytes, int seed = 7)
    {
        var data = new byte[bytes];
        new Random(seed).NextBytes(data);
        return data;
    }

    [Fact]
    public void ChunksInAnyOrderWithDuplicatesAssembleTheExactFile()
    {
        var data = Data(300_000);
        var package = TransferPackager.FromBytes(data, 64 * 1024);
        Assert.Equal(5, package.Manifest.ChunkCount);
        using var assembly = TransferAssembly.OpenOrCreate(_root, package.Manifest);
        foreach (int i in new[] { 4, 2, 2, 0, 4, 3 })
            assembly.Accept(i, package.Chunk(i).Span);
        Assert.Equal(ChunkOutcome.Duplicate, assembly.Accept(2, package.Chunk(2).Span));
        Assert.Equal([1], assembly.MissingChunks());
        Assert.False(assembly.TryComplete());
        Assert.Equal(ChunkOutcome.Stored, assembly.Accept(1, package.Chunk(1).Span));
        Assert.True(assembly.TryComplete());
        Assert.Equal(data, File.ReadAllBytes(assembly.DataPath));
    }

    [Fact]
    public void TamperedWrongLengthAndOutOfRangeChunksAreRefused()
    {
        var package = TransferPackager.FromBytes(Data(100_000), 32 * 1024);
        using var assembly = TransferAssembly.OpenOrCreate(_root, package.Manifest);
        var tampered = package.Chunk(1).ToArray();
        tampered[100] ^= 1;
        Assert.Equal(ChunkOutcome.HashMismatch, assembly.Accept(1, tampered));
        Assert.Equal(ChunkOutcome.Invalid, assembly.Accept(1, tampered.AsSpan(1)));
        Assert.Equal(ChunkOutcome.Invalid, assembly.Accept(4, package.Chunk(3).Span));
        Assert.Equal(ChunkOutcome.Invalid, assembly.Accept(-1, package.Chunk(0).Span));
        Assert.Equal(4, assembly.Missing);
    }

    [Fact]
    public void ReopeningResumesWithTheChunksAlreadyOnDisk()
    {
        var data = Data(200_000);
        var package = TransferPackager.FromBytes(data, 16 * 1024);
        using (var first = TransferAssembly.OpenOrCreate(_root, package.Manifest))
            for (int i = 0; i < package.Manifest.ChunkCount; i += 2) first.Accept(i, package.Chunk(i).Span);
        using var second = TransferAssembly.OpenOrCreate(_root, package.Manifest);
        Assert.Equal((package.Manifest.ChunkCount + 1) / 2, second.Received);
        Assert.True(second.Has(0));
        Assert.False(second.Has(1));
        foreach (int i in second.MissingChunks()) second.Accept(i, package.Chunk(i).Span);
        Assert.True(second.TryComplete());
        Assert.Equal(data, File.ReadAllBytes(second.DataPath));
    }

    [Fact]
    public void ACorruptedChunkOnDiskIsUnmarkedAndFetchedAgain()
    {
        var data = Data(50_000);
        var package = TransferPackager.FromBytes(data, 8 * 1024);
        using var assembly = TransferAssembly.OpenOrCreate(_root, package.Manifest);
        for (int i = 0; i < package.Manifest.ChunkCount; i++) assembly.Accept(i, package.Chunk(i).Span);
        // What a power loss can leave: the map says "held" but the bytes on disk are stale.
        using (var file = new FileStream(assembly.DataPath, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            file.Position = 3 * 8 * 1024 + 10;
            file.WriteByte((byte)(data[3 * 8 * 1024 + 10] ^ 0xFF));
        }
        Assert.False(assembly.TryComplete());
        Assert.Equal([3], assembly.MissingChunks());
        Assert.Equal(ChunkOutcome.Stored, assembly.Accept(3, package.Chunk(3).Span));
        Assert.True(assembly.TryComplete());
    }

    [Fact]
    public void ADifferentChunkingOfTheSameFileStartsOver()
    {
        var data = Data(100_000);
        var small = TransferPackager.FromBytes(data, 8 * 1024);
        using (var first = TransferAssembly.OpenOrCreate(_root, small.Manifest)) first.Accept(0, small.Chunk(0).Span);
        var large = TransferPackager.FromBytes(data, 32 * 1024);
        using var second = TransferAssembly.OpenOrCreate(_root, large.Manifest);
        Assert.Equal(0, second.Received);
    }

    [Fact]
    public void PruneKeepsOnlyTheNamedTransfer()
    {
        var a = TransferPackager.FromBytes(Data(5000, 1), 1024);
        var b = TransferPackager.FromBytes(Data(5000, 2), 1024);
        TransferAssembly.OpenOrCreate(_root, a.Manifest).Dispose();
        TransferAssembly.OpenOrCreate(_root, b.Manifest).Dispose();
        TransferAssembly.Prune(_root, b.Manifest.Sha256);
        Assert.Equal([b.Manifest.Sha256], TransferAssembly.List(_root));
    }

    [Theory]
    [InlineData("""{"format":"other/1","sha256":"00","bytes":1,"chunk_bytes":1024,"chunks":[]}""", "'format'")]
    [InlineData("""{"format":"edgeagent-transfer/1","sha256":"xyz","bytes":1,"chunk_bytes":1024,"chunks":[]}""", "'sha256'")]
    [InlineData("""{"format":"edgeagent-transfer/1","kind":"zip","sha256":"00","bytes":1,"chunk_bytes":1024,"chunks":[]}""", "'kind'")]
    [InlineData("""{"format":"edgeagent-transfer/1","sha256":"0000000000000000000000000000000000000000000000000000000000000000","bytes":5000,"chunk_bytes":1024,"chunks":[]}""", "'chunks' has 0 entries, expected 5")]
    [InlineData("""{"format":"edgeagent-transfer/1","sha256":"0000000000000000000000000000000000000000000000000000000000000000","bytes":10,"chunk_bytes":10,"chunks":[]}""", "'chunk_bytes'")]
    [InlineData("""[1,2]""", "not valid JSON")]
    [InlineData("""{"format":""", "not valid JSON")]
    public void BadManifestsNameTheField(string json, string expected)
    {
        var error = Assert.Throws<TransferException>(() => TransferManifestJson.Parse(System.Text.Encoding.UTF8.GetBytes(json)));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void ManifestRoundTripsThroughJson()
    {
        var package = TransferPackager.FromBytes(Data(70_000), 64 * 1024, m => m with { Name = "vib", Version = "1.2" });
        var parsed = TransferManifestJson.Parse(TransferManifestJson.Serialize(package.Manifest));
        Assert.Equal(package.Manifest.Chunks, parsed.Chunks);
        Assert.Equal(("vib", "1.2", 70_000L), (parsed.Name, parsed.Version, parsed.Bytes));
    }

    [Fact]
    public void ChunkTopicsParseBackAndForeignTopicsDoNot()
    {
        string prefix = TransferTopics.FleetModel("plant-a");
        string sha = new('a', 64);
        Assert.True(TransferTopics.TryParseChunk(TransferTopics.Chunk(prefix, sha, 17), prefix, out string parsedSha, out int index));
        Assert.Equal((sha, 17), (parsedSha, index));
        Assert.False(TransferTopics.TryParseChunk($"{prefix}/chunk/{sha}/x", prefix, out _, out _));
        Assert.False(TransferTopics.TryParseChunk($"{prefix}/chunk/{sha[..60]}/1", prefix, out _, out _));
        Assert.False(TransferTopics.TryParseChunk($"{prefix}/chunk/{sha}/-1", prefix, out _, out _));
        Assert.Throws<TransferException>(() => TransferTopics.DeviceModel("a/b"));
        Assert.Throws<TransferException>(() => TransferTopics.FleetModel("#"));
    }

    [Theory]
    [InlineData("mqtt://broker.local", "broker.local", 1883, false)]
    [InlineData("mqtts://10.0.0.2", "10.0.0.2", 8883, true)]
    [InlineData("mqtt://127.0.0.1:1999", "127.0.0.1", 1999, false)]
    [InlineData("mqtts://h:443/", "h", 443, true)]
    public void BrokerAddressesParse(string text, string host, int port, bool tls) =>
        Assert.Equal(new BrokerAddress(host, port, tls), BrokerAddress.Parse(text));

    [Theory]
    [InlineData("http://h:1")]
    [InlineData("h:1883")]
    [InlineData("mqtt://h:1883/topic")]
    public void BadBrokerAddressesAreRefused(string text) => Assert.Throws<TransferException>(() => BrokerAddress.Parse(text));

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }
}
