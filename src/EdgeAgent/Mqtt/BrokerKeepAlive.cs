using MQTTnet.Protocol;
using MQTTnet.Server;

namespace EdgeAgent.Daemon.Mqtt;

/// <summary>
/// The embedded broker's keep-alive rule ([MQTT-3.1.2-24]: a client that sends nothing for one and a half times the
/// keep-alive it asked for is disconnected), checked only while a client that asked for one is connected. MQTTnet's own
/// monitor copies its whole client list on every scan whether or not anyone needs checking (64 B every 5 s for the life
/// of the daemon, whose own in-process connection asks for no keep-alive), so the broker runs it rarely, as a backstop
/// (<see cref="BackstopInterval"/>), and this check does the work: nothing is allocated while no such client is connected.
/// </summary>
public sealed class BrokerKeepAlive
{
    /// <summary>How often MQTTnet's own monitor still scans, in case a client escaped this check's bookkeeping.</summary>
    public static readonly TimeSpan BackstopInterval = TimeSpan.FromHours(1);

    private static readonly MqttServerClientDisconnectOptions TimedOut = new() { ReasonCode = MqttDisconnectReasonCode.KeepAliveTimeout };

    private readonly MqttServer _server;
    // Keep-alive in seconds of each client that asked for one, from its CONNECT (as validated) until it disconnects.
    // A plain dictionary under a lock (a ConcurrentDictionary of this shape was ~28 KB more native code in the binary).
    private readonly Dictionary<string, int> _periods = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    private BrokerKeepAlive(MqttServer server) => _server = server;

    /// <summary>Follows <paramref name="server"/>'s connections; call before it starts.</summary>
    public static BrokerKeepAlive Attach(MqttServer server)
    {
        if (server.IsStarted)
            throw new InvalidOperationException("the broker's connections must be followed from before it starts: clients connected earlier would never be checked");
        var keepAlive = new BrokerKeepAlive(server);
        server.ValidatingConnectionAsync += e =>
        {
            lock (keepAlive._gate)
            {
                if (e.KeepAlivePeriod is > 0 and { } seconds) keepAlive._periods[e.ClientId] = seconds;
                else keepAlive._periods.Remove(e.ClientId);
            }
            return Task.CompletedTask;
        };
        // Not raised for a connection that another with the same client id took over, whose successor was validated.
        server.ClientDisconnectedAsync += e =>
        {
            lock (keepAlive._gate) keepAlive._periods.Remove(e.ClientId);
            return Task.CompletedTask;
        };
        return keepAlive;
    }

    /// <summary>Connected clients that asked for a keep-alive (the ones a check looks at).</summary>
    public int Followed
    {
        get { lock (_gate) return _periods.Count; }
    }

    /// <summary>
    /// Disconnects every followed client that has sent nothing for 1.5 times its keep-alive as of
    /// <paramref name="utcNow"/>; returns how many. Does nothing, and allocates nothing, while none is followed.
    /// </summary>
    public async Task<int> CheckAsync(DateTime utcNow)
    {
        if (Followed == 0) return 0;
        int disconnected = 0;
        var clients = await _server.GetClientsAsync().ConfigureAwait(false);
        foreach (var client in clients)
        {
            int seconds;
            lock (_gate)
                if (!_periods.TryGetValue(client.Id, out seconds)) continue;
            // MQTTnet's statistics take the client's point of view: "sent" is the last packet the broker received from it.
            if ((utcNow - client.LastPacketSentTimestamp).TotalSeconds < seconds * 1.5) continue;
            lock (_gate) _periods.Remove(client.Id);
            await client.DisconnectAsync(TimedOut).ConfigureAwait(false);
            disconnected++;
        }
        // A validated connection that never became a client (its CONNACK failed) is forgotten at the next check.
        lock (_gate)
            if (_periods.Count > clients.Count)
                foreach (string id in _periods.Keys.ToArray())
                    if (!clients.Any(c => c.Id == id)) _periods.Remove(id);
        return disconnected;
    }

    /// <summary>Checks every <paramref name="interval"/> until <paramref name="stopping"/> fires.</summary>
    public async Task RunAsync(TimeSpan interval, TimeProvider time, CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
                await CheckAsync(time.GetUtcNow().UtcDateTime).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }
}
