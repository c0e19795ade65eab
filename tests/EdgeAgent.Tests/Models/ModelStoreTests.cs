using EdgeAgent.Daemon.Models;
using EdgeAgent.Tests.Support;
using Xunit;

namespace EdgeAgent.Tests.Models;

public class ModelStoreTests
{
    private static ModelStore NewStore(TempDirectory dir, int keep = 3) => new(dir.File("models"), keep, new TextBundle.Verifier());

    [Fact]
    public void InstallDoesNotActivateAndActivateSwitchesThePointer()
    {
        using var dir = new TempDirectory();
        var store = NewStore(dir);
        var installed = store.Install("vib", "1.0", TextBundle.Write(dir.File("in"), "vib", "1.0"), null);
        Assert.Null(store.GetCurrent("vib"));
        Assert.True(File.Exists(installed.BundlePath));
        store.Activate("vib", "1.0");
        Assert.Equal("1.0", store.GetCurrent("vib")!.Version);
        Assert.Equal("1.0\n", File.ReadAllText(dir.File("models/vib/current")));
    }

    [Fact]
    public void VersionsAreImmutable()
    {
        using var dir = new TempDirectory();
        var store = NewStore(dir);
        string bundle = TextBundle.Write(dir.File("in"), "vib", "1.0");
        store.Install("vib", "1.0", bundle, null);
        store.Install("vib", "1.0", bundle, null); // same bytes: no-op
        var e = Assert.Throws<ModelStoreException>(() => store.Install("vib", "1.0", TextBundle.Write(dir.File("in"), "vib", "1.0", extra: "different"), null));
        Assert.Contains("immutable", e.Message);
    }

    [Fact]
    public void UnsignedBundleIsRefusedBeforeAnythingIsWritten()
    {
        using var dir = new TempDirectory();
        var store = NewStore(dir);
        var e = Assert.Throws<ModelStoreException>(() => store.Install("vib", "1.0", TextBundle.Write(dir.File("in"), "vib", "1.0", signed: false), null));
        Assert.Contains("signature", e.Message);
        Assert.Empty(store.List("vib"));
    }

    [Fact]
    public void RollbackGoesToThePreviouslyActiveVersion()
    {
        using var dir = new TempDirectory();
        var store = NewStore(dir);
        foreach (var v in new[] { "1.0", "1.1", "1.2" })
        {
            store.Install("vib", v, TextBundle.Write(dir.File("in"), "vib", v), null);
            store.Activate("vib", v);
        }
        Assert.Equal("1.1", store.Rollback("vib", null).Version);
        Assert.Equal("1.1", store.GetCurrent("vib")!.Version);
        Assert.Equal("1.2", store.Rollback("vib", "1.2").Version);
        Assert.Throws<ModelStoreException>(() => store.Rollback("vib", "9.9"));
    }

    [Fact]
    public void OnlyTheLastKVersionsAreKeptButNeverTheCurrentOrTheRollbackTarget()
    {
        using var dir = new TempDirectory();
        var store = NewStore(dir, keep: 2);
        foreach (var v in new[] { "1", "2", "3", "4" })
        {
            store.Install("vib", v, TextBundle.Write(dir.File("in"), "vib", v), null);
            store.Activate("vib", v);
        }
        Assert.Equal(["4", "3"], store.List("vib").Select(m => m.Version));
    }

    [Fact]
    public void StartupFallsBackWhenTheCurrentVersionIsCorrupt()
    {
        using var dir = new TempDirectory();
        var store = NewStore(dir);
        foreach (var v in new[] { "1.0", "2.0" })
        {
            store.Install("vib", v, TextBundle.Write(dir.File("in"), "vib", v), null);
            store.Activate("vib", v);
        }
        File.AppendAllText(Path.Combine(store.GetCurrent("vib")!.Directory, ModelStore.BundleFileName), "bit rot");

        var reopened = NewStore(dir);
        var resolution = reopened.ResolveServable("vib", _ => null);
        Assert.NotNull(resolution);
        Assert.Equal("1.0", resolution!.Model.Version);
        Assert.True(resolution.FellBack);
        Assert.Contains("2.0", resolution.Skipped[0]);
        Assert.Equal("1.0", reopened.GetCurrent("vib")!.Version);
        Assert.True(reopened.List("vib").Single(m => m.Version == "2.0").IsBad);
    }

    [Fact]
    public void StartupFallsBackWhenTheCurrentVersionFailsToLoad()
    {
        using var dir = new TempDirectory();
        var store = NewStore(dir);
        store.Install("vib", "1.0", TextBundle.Write(dir.File("in"), "vib", "1.0"), null);
        store.Activate("vib", "1.0");
        store.Install("vib", "2.0", TextBundle.Write(dir.File("in"), "vib", "2.0"), null);
        store.Activate("vib", "2.0");
        var resolution = store.ResolveServable("vib", m => m.Version == "2.0" ? "unsupported op Foo" : null);
        Assert.Equal("1.0", resolution!.Model.Version);
        Assert.Contains("unsupported op Foo", store.List("vib").Single(m => m.Version == "2.0").BadReason);
    }

    [Fact]
    public void NothingServableGivesNull()
    {
        using var dir = new TempDirectory();
        var store = NewStore(dir);
        store.Install("vib", "1.0", TextBundle.Write(dir.File("in"), "vib", "1.0"), null);
        store.Activate("vib", "1.0");
        Assert.Null(store.ResolveServable("vib", _ => "broken"));
    }

    [Fact]
    public void LeftoversOfAnInterruptedInstallAreRemovedAndInvisible()
    {
        using var dir = new TempDirectory();
        var store = NewStore(dir);
        store.Install("vib", "1.0", TextBundle.Write(dir.File("in"), "vib", "1.0"), null);
        Directory.CreateDirectory(dir.File("models/vib/.staging-2.0-abc"));
        File.WriteAllText(dir.File("models/vib/current.tmp-1-x"), "2.0");
        Directory.CreateDirectory(dir.File("models/vib/3.0")); // no meta.json: never a version
        var reopened = NewStore(dir);
        Assert.Equal(["1.0"], reopened.List("vib").Select(m => m.Version));
        Assert.False(Directory.Exists(dir.File("models/vib/.staging-2.0-abc")));
        Assert.False(File.Exists(dir.File("models/vib/current.tmp-1-x")));
    }

    [Theory]
    [InlineData("1.10", "1.9", 1)]
    [InlineData("2.0", "2.0-rc1", 1)]
    [InlineData("1.0", "1.0.0", 0)]
    [InlineData("1.2.3", "1.2.4", -1)]
    [InlineData("7", "10", -1)]
    public void VersionsCompareNumerically(string a, string b, int sign) =>
        Assert.Equal(sign, Math.Sign(ModelVersionComparer.Instance.Compare(a, b)));

    [Theory]
    [InlineData("../etc")]
    [InlineData("current")]
    [InlineData(".hidden")]
    [InlineData("a/b")]
    public void PathLikeNamesAreRefused(string version)
    {
        using var dir = new TempDirectory();
        var store = NewStore(dir);
        Assert.Throws<ModelStoreException>(() => store.Install("vib", version, TextBundle.Write(dir.File("in"), "vib", "1"), null));
    }
}
