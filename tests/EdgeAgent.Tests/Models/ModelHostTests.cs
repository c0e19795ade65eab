using EdgeAgent.Daemon.Control;
using EdgeAgent.Daemon.Control.Commands;
using EdgeAgent.Daemon.Inference;
using EdgeAgent.Daemon.Models;
using EdgeAgent.Tests.Support;
using Xunit;

namespace EdgeAgent.Tests.Models;

public class ModelHostTests
{
    private sealed class Fixture : IDisposable
    {
        public readonly TempDirectory Dir = new();
        public readonly EventHub Events = new(TimeProvider.System);
        public readonly TextBundle.EngineFactory Factory = new();
        public readonly ModelStore Store;
        public readonly ModelHost Host;
        public readonly Broadcast<DaemonEvent>.Subscription EventLog;

        public Fixture()
        {
            Store = new ModelStore(Dir.File("models"), 3, new TextBundle.Verifier());
            Host = new ModelHost("vib", Store, new TextBundle.Verifier(), Factory, Events, TimeProvider.System);
            EventLog = Events.Stream.Subscribe("test", 100);
        }

        public string Bundle(string version, bool signed = true, bool loads = true, string name = "vib") =>
            TextBundle.Write(Dir.File("in"), name, version, signed, loads);

        public List<DaemonEvent> DrainEvents()
        {
            var list = new List<DaemonEvent>();
            while (EventLog.Reader.TryRead(out var e)) list.Add(e);
            return list;
        }

        public void Dispose()
        {
            Host.Dispose();
            Dir.Dispose();
        }
    }

    [Fact]
    public async Task EmptyStoreInstallsTheDemoBundle()
    {
        using var f = new Fixture();
        var served = await f.Host.LoadAtStartupAsync(f.Bundle("0.1"), CancellationToken.None);
        Assert.Equal("0.1", served.Stored.Version);
        Assert.Equal("0.1", f.Store.GetCurrent("vib")!.Version);
        Assert.Contains(f.DrainEvents(), e => e.Kind == "model.activated");
    }

    [Fact]
    public async Task EmptyStoreWithoutDemoIsAClearError()
    {
        using var f = new Fixture();
        var e = await Assert.ThrowsAsync<ModelLoadException>(() => f.Host.LoadAtStartupAsync(f.Dir.File("none.eab"), CancellationToken.None));
        Assert.Contains("no model 'vib'", e.Message);
    }

    [Fact]
    public async Task DeployRefusesDowngradesBadSignaturesAndOtherModelsAndKeepsServing()
    {
        using var f = new Fixture();
        await f.Host.DeployAsync(f.Bundle("2.0"), false, null, "test", CancellationToken.None);
        var serving = f.Host.Current!;
        Assert.Contains("not newer", (await Assert.ThrowsAsync<ModelStoreException>(() => f.Host.DeployAsync(f.Bundle("1.0"), false, null, "t", CancellationToken.None))).Message);
        Assert.Contains("signature", (await Assert.ThrowsAsync<ModelStoreException>(() => f.Host.DeployAsync(f.Bundle("3.0", signed: false), false, null, "t", CancellationToken.None))).Message);
        Assert.Contains("this device serves 'vib'", (await Assert.ThrowsAsync<ModelStoreException>(() => f.Host.DeployAsync(f.Bundle("3.0", name: "other"), false, null, "t", CancellationToken.None))).Message);
        Assert.Same(serving, f.Host.Current);
        Assert.Equal("2.0", f.Store.GetCurrent("vib")!.Version);
    }

    [Fact]
    public async Task AModelThatFailsToLoadIsMarkedBadAndTheOldOneKeepsServing()
    {
        using var f = new Fixture();
        await f.Host.DeployAsync(f.Bundle("1.0"), false, null, "test", CancellationToken.None);
        await Assert.ThrowsAsync<ModelLoadException>(() => f.Host.DeployAsync(f.Bundle("2.0", loads: false), false, null, "t", CancellationToken.None));
        Assert.Equal("1.0", f.Host.Current!.Stored.Version);
        Assert.Equal("1.0", f.Store.GetCurrent("vib")!.Version);
        Assert.True(f.Store.List("vib").Single(m => m.Version == "2.0").IsBad);
    }

    [Fact]
    public async Task SwappedEnginesAreDisposedOnlyWhenTheLoopReleasesThem()
    {
        using var f = new Fixture();
        await f.Host.DeployAsync(f.Bundle("1.0"), false, null, "test", CancellationToken.None);
        var first = (EnergyEngine)f.Host.Current!.Engine;
        await f.Host.DeployAsync(f.Bundle("1.1"), false, "1.0", "test", CancellationToken.None);
        Assert.False(first.Disposed);
        f.Host.ReleaseRetired();
        Assert.True(first.Disposed);
        Assert.Equal("1.0", f.Store.GetCurrent("vib") is { } c ? f.Store.List("vib").Single(m => m.Version == "1.1").Parent : null);
    }

    [Fact]
    public async Task RollbackCommandServesThePreviousVersionAndRefusesUnknownOnes()
    {
        using var f = new Fixture();
        await f.Host.DeployAsync(f.Bundle("1.0"), false, null, "test", CancellationToken.None);
        await f.Host.DeployAsync(f.Bundle("1.1"), false, null, "test", CancellationToken.None);
        var registry = new CommandRegistry([new ModelRollbackCommand(f.Host), new ModelListCommand(f.Host)]);

        var ok = await registry.DispatchAsync(CommandRequest.Parse("model/rollback", """{"id": "r1"}"""), CancellationToken.None);
        Assert.True(ok.Ok, ok.Error);
        Assert.Equal("1.0", f.Host.Current!.Stored.Version);

        var refused = await registry.DispatchAsync(CommandRequest.Parse("model/rollback", """{"id": "r2", "version": "9.9"}"""), CancellationToken.None);
        Assert.False(refused.Ok);
        Assert.Contains("9.9 is not in the store", refused.Error);

        var wrongType = await registry.DispatchAsync(CommandRequest.Parse("model/rollback", """{"id": "r3", "version": 5}"""), CancellationToken.None);
        Assert.Contains("'version' must be a string", wrongType.Error);

        var list = await registry.DispatchAsync(CommandRequest.Empty("model/list"), CancellationToken.None);
        Assert.Equal("1.0", (string?)list.Result!["current"]);
        Assert.Equal(2, list.Result!["versions"]!.AsArray().Count);
        Assert.Contains(f.DrainEvents(), e => e.Kind == "model.rollback");
    }
}
