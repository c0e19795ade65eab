using EdgeAgent.Daemon.Control;
using EdgeAgent.Daemon.Control.Commands;
using Xunit;

namespace EdgeAgent.Tests.Control;

public class CommandRegistryTests
{
    private sealed class Throwing : ICommandHandler
    {
        public string Verb => "boom";
        public ValueTask<CommandResult> HandleAsync(CommandRequest request, CancellationToken cancellationToken) => throw new InvalidOperationException("kaput");
    }

    [Fact]
    public async Task UnknownVerbIsAFailureListingTheKnownOnes()
    {
        var registry = new CommandRegistry([new PingCommand(TimeProvider.System)]);
        var result = await registry.DispatchAsync(CommandRequest.Empty("nope"), CancellationToken.None);
        Assert.False(result.Ok);
        Assert.Contains("unknown verb 'nope'", result.Error);
        Assert.Contains("ping", result.Error);
    }

    [Fact]
    public async Task AThrowingHandlerBecomesAFailureReply()
    {
        var registry = new CommandRegistry([new Throwing()]);
        var result = await registry.DispatchAsync(CommandRequest.Empty("boom", "7"), CancellationToken.None);
        Assert.False(result.Ok);
        Assert.Contains("kaput", result.Error);
        var reply = result.ToReply("7");
        Assert.Equal("7", (string?)reply["id"]);
        Assert.False((bool)reply["ok"]!);
    }

    [Fact]
    public void DuplicateVerbsAreAProgrammingError() =>
        Assert.Throws<InvalidOperationException>(() => new CommandRegistry([new PingCommand(TimeProvider.System), new PingCommand(TimeProvider.System)]));

    [Fact]
    public async Task PingRepliesWithTheRequestId()
    {
        var registry = new CommandRegistry([new PingCommand(TimeProvider.System)]);
        var request = CommandRequest.Parse("ping", """{"id": "abc"}""");
        Assert.Equal("abc", request.Id);
        var result = await registry.DispatchAsync(request, CancellationToken.None);
        var reply = result.ToReply(request.Id);
        Assert.True((bool)reply["ok"]!);
        Assert.True((bool)reply["result"]!["pong"]!);
    }

    [Fact]
    public void BroadcastDropsOldestForASlowSubscriberAndCountsIt()
    {
        var broadcast = new Broadcast<int>();
        using var slow = broadcast.Subscribe("slow", 3);
        for (int i = 0; i < 10; i++) broadcast.Publish(i);
        Assert.Equal(7, slow.Dropped);
        var got = new List<int>();
        while (slow.Reader.TryRead(out int v)) got.Add(v);
        Assert.Equal([7, 8, 9], got);
    }
}
