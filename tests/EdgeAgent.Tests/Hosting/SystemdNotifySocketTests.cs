using System.Net.Sockets;
using System.Text;
using EdgeAgent.Daemon.Hosting;
using EdgeAgent.Tests.Support;
using Xunit;

namespace EdgeAgent.Tests.Hosting;

/// <summary>
/// The watchdog's notifications reach systemd's socket (played here by a bound datagram socket) as sd_notify(3) expects,
/// one datagram per message, over one socket kept open: a tick allocates nothing, and a socket that systemd binds anew
/// (after a re-exec) is reconnected.
/// </summary>
public class SystemdNotifySocketTests
{
    private static Socket Listen(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        socket.ReceiveTimeout = 5000;
        return socket;
    }

    private static string Receive(Socket socket)
    {
        var buffer = new byte[512];
        int n = socket.Receive(buffer);
        return Encoding.UTF8.GetString(buffer, 0, n);
    }

    [Fact]
    public void StatusLinesAndPingsArriveAsDatagramsWithoutAllocationPerTick()
    {
        using var dir = new TempDirectory();
        string path = dir.File("notify");
        using var systemd = Listen(path);
        using var notify = new SystemdNotifySocket(path);
        var line = new byte[256];
        Assert.True(WatchdogService.TryFormatStatus(line, "vibration", "1.2.0", 7.8125, 1234, "ok", out int length));
        Assert.True(notify.TrySend(line.AsSpan(0, length)));
        Assert.Equal("STATUS=vibration 1.2.0: 7.8 inferences/s, 1234 total, health ok", Receive(systemd));
        Assert.True(notify.TrySend("WATCHDOG=1"u8));
        Assert.Equal("WATCHDOG=1", Receive(systemd));

        // Ticks of two messages each, read by "systemd" between them (a datagram socket queues only a few: Linux's
        // max_dgram_qlen is 10 by default); only the sending side's bytes are counted.
        var buffer = new byte[512];
        long allocated = 0, received = 0;
        string last = "";
        for (int tick = 0; tick < 50; tick++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            Assert.True(WatchdogService.TryFormatStatus(line, "vibration", "1.2.0", tick * 0.5, 1234 + tick, "degraded", out length));
            Assert.True(notify.TrySend(line.AsSpan(0, length)));
            Assert.True(notify.TrySend("WATCHDOG=1"u8));
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
            int n = systemd.Receive(buffer);
            if (tick == 49) last = Encoding.UTF8.GetString(buffer, 0, n);
            Assert.True(buffer.AsSpan(0, n).StartsWith("STATUS="u8));
            n = systemd.Receive(buffer);
            Assert.True(buffer.AsSpan(0, n).SequenceEqual("WATCHDOG=1"u8));
            received += 2;
        }
        Assert.Equal(0, allocated);
        Assert.Equal(100, received);
        Assert.Equal("STATUS=vibration 1.2.0: 24.5 inferences/s, 1283 total, health degraded", last);
    }

    [Fact]
    public void AStatusLineThatDoesNotFitIsRefusedNotCut()
    {
        var small = new byte[16];
        Assert.False(WatchdogService.TryFormatStatus(small, "vibration", "1.2.0", 7.8, 1, "ok", out _));
    }

    [Fact]
    public void ASocketBoundAnewIsReconnectedAndAMissingOneIsReportedNotThrown()
    {
        using var dir = new TempDirectory();
        string path = dir.File("notify");
        using var notify = new SystemdNotifySocket(path);
        Assert.False(notify.TrySend("WATCHDOG=1"u8)); // nothing listens yet
        using (var first = Listen(path))
        {
            Assert.True(notify.TrySend("READY=1"u8));
            Assert.Equal("READY=1", Receive(first));
        }
        File.Delete(path);
        using var second = Listen(path); // systemd re-executed: the same path, a new socket
        Assert.True(notify.TrySend("WATCHDOG=1"u8));
        Assert.Equal("WATCHDOG=1", Receive(second));
    }

    [Fact]
    public void AnAbstractSocketNameIsTakenFromSystemdsAtSign()
    {
        string name = "edgeagent-test-" + Guid.NewGuid().ToString("N");
        using var systemd = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        systemd.Bind(new UnixDomainSocketEndPoint("\0" + name));
        systemd.ReceiveTimeout = 5000;
        using var notify = new SystemdNotifySocket("@" + name);
        Assert.True(notify.TrySend("WATCHDOG=1"u8));
        Assert.Equal("WATCHDOG=1", Receive(systemd));
    }
}
