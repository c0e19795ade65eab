using System.Net;
using System.Net.Sockets;
using System.Text;
using EdgeAgent.Daemon.Mqtt;
using EdgeAgent.Tests.Support;
using MQTTnet;
using MQTTnet.Server;
using Xunit;

namespace EdgeAgent.Tests.Mqtt;

/// <summary>
/// The embedded broker's keep-alive check: a client silent for 1.5 times the keep-alive it asked for is disconnected,
/// a client that asked for none is left alone, and while only such clients are connected a check does nothing at all.
/// </summary>
public sealed class BrokerKeepAliveTests
{
    [Fact]
    public async Task SilentClientIsDroppedAfterOneAndAHalfKeepAlivesAndClientsWithoutOneCostNothing()
    {
        int port = TestDaemon.FreePort();
        var options = new MqttServerOptionsBuilder().WithDefaultEndpoint().WithDefaultEndpointBoundIPAddress(IPAddress.Loopback)
            .WithDefaultEndpointBoundIPV6Address(IPAddress.None).WithDefaultEndpointPort(port).Build();
        options.KeepAliveOptions.MonitorInterval = BrokerKeepAlive.BackstopInterval; // MQTTnet's own scan stays out of the way
        using var server = new MqttServerFactory().CreateMqttServer(options);
        var keepAlive = BrokerKeepAlive.Attach(server);
        await server.StartAsync();
        try
        {
            Assert.Throws<InvalidOperationException>(() => BrokerKeepAlive.Attach(server));
            using var silent = await ConnectAsync(port, "silent", keepAliveSeconds: 10);
            using var quiet = await ConnectAsync(port, "no-keep-alive", keepAliveSeconds: 0);
            Assert.Equal(1, keepAlive.Followed);

            // Within 1.5 keep-alives (15 s) of its CONNECT: still welcome (5 s of margin for a loaded machine).
            Assert.Equal(0, await keepAlive.CheckAsync(DateTime.UtcNow.AddSeconds(10)));
            // Past them: dropped, and the socket is closed by the broker.
            Assert.Equal(1, await keepAlive.CheckAsync(DateTime.UtcNow.AddSeconds(16)));
            Assert.Equal(0, await ReadToEndAsync(silent));
            Assert.Equal(0, keepAlive.Followed);
            var left = await server.GetClientsAsync();
            Assert.Equal(["no-keep-alive"], left.Select(c => c.Id));

            // Only a client without a keep-alive is connected (as the daemon's own in-process connection): a check
            // neither disconnects it nor allocates, however late.
            await keepAlive.CheckAsync(DateTime.UtcNow.AddDays(1));
            int dropped = 0;
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 100; i++) dropped += await keepAlive.CheckAsync(DateTime.UtcNow.AddDays(1));
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(0, dropped);
            Assert.Equal(0, allocated);
            Assert.Single(await server.GetClientsAsync());
        }
        finally
        {
            await server.StopAsync();
        }
    }

    /// <summary>A raw MQTT 3.1.1 client: CONNECT with a clean session and the given keep-alive, CONNACK read, then silence.</summary>
    private static async Task<Socket> ConnectAsync(int port, string clientId, ushort keepAliveSeconds)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port);
        byte[] id = Encoding.UTF8.GetBytes(clientId);
        var packet = new List<byte> { 0x10, (byte)(10 + 2 + id.Length), 0, 4, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 4, 0x02,
            (byte)(keepAliveSeconds >> 8), (byte)keepAliveSeconds, (byte)(id.Length >> 8), (byte)id.Length };
        packet.AddRange(id);
        await socket.SendAsync(packet.ToArray());
        var connAck = new byte[4];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        for (int read = 0; read < connAck.Length;)
        {
            int n = await socket.ReceiveAsync(connAck.AsMemory(read), timeout.Token);
            Assert.True(n > 0, "the broker closed the connection instead of acknowledging it");
            read += n;
        }
        Assert.Equal(new byte[] { 0x20, 0x02, 0x00, 0x00 }, connAck);
        return socket;
    }

    /// <summary>Reads until the broker closes the connection; returns what the last read got (0 once closed).</summary>
    private static async Task<int> ReadToEndAsync(Socket socket)
    {
        var buffer = new byte[64];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        int n;
        while ((n = await socket.ReceiveAsync(buffer, timeout.Token)) > 0) { }
        return n;
    }
}
