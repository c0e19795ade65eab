using EdgeAgent.Compression.Bundles;
using EdgeAgent.Compression.Signing;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;
using Xunit;

namespace EdgeAgent.Exporter.Tests;

[Collection("console")]
public sealed class BundleCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private void Keygen(string prefix = "key") => Assert.Equal(0, CliRunner.Run("keygen", "-o", _dir[prefix]).Code);

    [Fact]
    public void KeygenWritesAPrivateKeyOnlyTheOwnerCanRead()
    {
        var (code, output, _) = CliRunner.Run("keygen", "-o", _dir["signer"]);
        Assert.Equal(0, code);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_dir["signer"]));
        using var key = BundleSigningKey.FromFile(_dir["signer"]);
        using var pub = BundlePublicKey.FromFile(_dir["signer.pub"]);
        Assert.Equal(key.KeyId, pub.KeyId);
        Assert.Contains(pub.KeyIdHex, output);
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.tmp"));
    }

    [Fact]
    public void KeygenRefusesToOverwriteWithoutForce()
    {
        Keygen("k");
        var before = File.ReadAllText(_dir["k"]);
        var (code, _, err) = CliRunner.Run("keygen", "-o", _dir["k"]);
        Assert.Equal(2, code);
        Assert.Contains("already exists", err);
        Assert.Equal(before, File.ReadAllText(_dir["k"]));
        Assert.Equal(0, CliRunner.Run("keygen", "-o", _dir["k"], "--force").Code);
        Assert.NotEqual(before, File.ReadAllText(_dir["k"]));
    }

    [Fact]
    public void PackThenVerifySucceedsAndRecordsTheModel()
    {
        Keygen();
        var (code, _, err) = CliRunner.Run("pack", TestModels.Linear, "--name", "linear", "--version", "1.1.0", "--parent", "1.0.0",
            "--labels", "a,b,c,d,e,f,g,h", "--trainable-head", "auto", "--preprocess", """{"mean": [0.5]}""",
            "--key", _dir["key"], "-o", _dir["m.eab"]);
        Assert.True(code == 0, err);
        var (vcode, vout, verr) = CliRunner.Run("verify", _dir["m.eab"], "--pub", _dir["key.pub"]);
        Assert.True(vcode == 0, verr);
        Assert.Contains("OK", vout);

        var bundle = ModelBundle.ReadFile(_dir["m.eab"]);
        Assert.Equal(File.ReadAllBytes(TestModels.Linear), bundle.Model.ToArray());
        Assert.Equal("1.0.0", bundle.Manifest.ParentVersion);
        Assert.Equal(8, bundle.Manifest.Labels.Length);
        Assert.Equal([4L, 10L], bundle.Manifest.Inputs[0].Shape);
        Assert.Equal("float32", bundle.Manifest.Outputs[0].ElementType);
        Assert.NotNull(bundle.Manifest.Trainable);
        Assert.Equal(2, bundle.Manifest.Trainable!.Initializers.Length);
        Assert.Equal(0.5, bundle.Manifest.Preprocess!.Value.GetProperty("mean")[0].GetDouble());
    }

    [Fact]
    public void VerifyFailsWithTheWrongKeyAndOnAFlippedBit()
    {
        Keygen("a");
        Keygen("b");
        Assert.Equal(0, CliRunner.Run("pack", TestModels.Linear, "--name", "linear", "--version", "1.0.0", "--key", _dir["a"], "-o", _dir["m.eab"]).Code);
        var (code, _, err) = CliRunner.Run("verify", _dir["m.eab"], "--pub", _dir["b.pub"]);
        Assert.Equal(1, code);
        Assert.Contains("not among", err);

        var bytes = File.ReadAllBytes(_dir["m.eab"]);
        var rng = new Random(5);
        // A sample of single-bit flips across the whole file through the real command.
        for (int k = 0; k < 40; k++)
        {
            var copy = (byte[])bytes.Clone();
            int bit = k == 0 ? 0 : k == 1 ? bytes.Length * 8 - 1 : rng.Next(bytes.Length * 8);
            copy[bit / 8] ^= (byte)(1 << (bit % 8));
            File.WriteAllBytes(_dir["t.eab"], copy);
            var (c, _, e) = CliRunner.Run("verify", _dir["t.eab"], "--pub", _dir["a.pub"]);
            Assert.True(c == 1, $"bit {bit}: exit {c}");
            Assert.Contains("INVALID", e);
        }
    }

    [Fact]
    public void UsageErrorsExitWith2AndWriteNothing()
    {
        Keygen();
        string[][] cases =
        [
            ["pack", TestModels.Linear, "--name", "linear", "--key", _dir["key"], "-o", _dir["x.eab"]],
            ["pack", TestModels.Linear, "--name", "linear", "--version", "1.0", "--key", _dir["key"], "-o", _dir["x.eab"]],
            ["pack", TestModels.Linear, "--name", "bad name", "--version", "1.0.0", "--key", _dir["key"], "-o", _dir["x.eab"]],
            ["pack", TestModels.Linear, "--name", "linear", "--version", "1.0.0", "--parent", "2.0.0", "--key", _dir["key"], "-o", _dir["x.eab"]],
            ["pack", TestModels.Linear, "--name", "linear", "--version", "1.0.0", "--labels", "a,b", "--key", _dir["key"], "-o", _dir["x.eab"]],
            ["pack", TestModels.Linear, "--name", "linear", "--version", "1.0.0", "--preprocess", "[1]", "--key", _dir["key"], "-o", _dir["x.eab"]],
            ["pack", TestModels.Linear, "--name", "linear", "--version", "1.0.0", "--trainable-head", "nope", "--key", _dir["key"], "-o", _dir["x.eab"]],
            ["pack", _dir["missing.onnx"], "--name", "linear", "--version", "1.0.0", "--key", _dir["key"], "-o", _dir["x.eab"]],
            ["pack", TestModels.Linear, "--name", "linear", "--version", "1.0.0", "--key", _dir["key"], "-o", _dir["x.eab"], "--bogus"],
            ["verify"],
            ["frobnicate"],
            [],
        ];
        foreach (var args in cases)
        {
            var (code, _, err) = CliRunner.Run(args);
            Assert.True(code == 2, $"exporter {string.Join(' ', args)} → {code}: {err}");
            Assert.False(string.IsNullOrWhiteSpace(err));
        }
        Assert.False(File.Exists(_dir["x.eab"]));
    }

    [Fact]
    public void PackingSomethingThatIsNotOnnxFailsWithExit1AndNoOutput()
    {
        Keygen();
        File.WriteAllText(_dir["junk.onnx"], "this is not a protobuf at all, just text\n");
        var (code, _, err) = CliRunner.Run("pack", _dir["junk.onnx"], "--name", "x", "--version", "1.0.0", "--key", _dir["key"], "-o", _dir["x.eab"]);
        Assert.Equal(1, code);
        Assert.Contains("junk.onnx", err);
        Assert.False(File.Exists(_dir["x.eab"]));
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.tmp"));
    }

    [Fact]
    public void PackingAModelTheRuntimeRejectsFailsWithExit1AndNoOutput()
    {
        // Valid protobuf, but a node reads a value nothing defines: the device's runtime would refuse it.
        Keygen();
        var g = new Graph { Name = "dangling" };
        g.Inputs.Add(ValueInfo.Of("x", DataType.Float, 1, 4));
        g.Outputs.Add(ValueInfo.Of("y", DataType.Float, 1, 4));
        g.Nodes.Add(new Node("Add", ["x", "nowhere"], ["y"], "add"));
        File.WriteAllBytes(_dir["dangling.onnx"], OnnxWriter.ToBytes(OnnxModel.Create(g, 17)));
        var (code, _, err) = CliRunner.Run("pack", _dir["dangling.onnx"], "--name", "x", "--version", "1.0.0", "--key", _dir["key"], "-o", _dir["x.eab"]);
        Assert.Equal(1, code);
        Assert.Contains("dangling.onnx", err);
        Assert.Contains("nowhere", err);
        Assert.False(File.Exists(_dir["x.eab"]));
    }

    [Fact]
    public void PackWithAPublicKeyInsteadOfThePrivateKeyFails()
    {
        Keygen();
        var (code, _, err) = CliRunner.Run("pack", TestModels.Linear, "--name", "x", "--version", "1.0.0", "--key", _dir["key.pub"], "-o", _dir["x.eab"]);
        Assert.Equal(1, code);
        Assert.Contains("public key", err);
        Assert.False(File.Exists(_dir["x.eab"]));
    }

    [Theory]
    [InlineData("keygen")]
    [InlineData("pack")]
    [InlineData("verify")]
    [InlineData("prune")]
    [InlineData("lowrank")]
    [InlineData("finetune")]
    [InlineData("distill")]
    [InlineData("demo-model")]
    [InlineData("publish")]
    public void EveryCommandHasHelp(string command)
    {
        var (code, output, _) = CliRunner.Run(command, "--help");
        Assert.Equal(0, code);
        // The usage line starts with the host's executable name (testhost here, exporter when installed).
        Assert.Matches($@"Usage:\s+\S+ {command} ", output);
    }
}
