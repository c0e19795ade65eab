using System.Security.Cryptography.X509Certificates;
using EdgeAgent.Compression.Distribution;
using Microsoft.Extensions.Logging;
using System.Buffers;
using MQTTnet;
using MQTTnet.Adapter;
using MQTTnet.Exceptions;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace EdgeAgent.Daemon.Mqtt;

/// <summary>
/// The device's one broker connection: connects with MQTT 5 (or 3.1.1 when the broker refuses 5), keeps a persistent
/// session, leaves a retained last will that marks the device offline, and reconnects with jittered exponential
/// backoff for as long as it runs. Subscriptions registered with <see cref="Subscribe"/> are renewed whenever the
/// broker lost our session, and always on the first connection of the process (so retained messages arrive again).
/// </summary>
public sealed class MqttConnection : IAsyncDisposable
{
    private readonly MqttOptions _options;
    private readonly ILogger _logger;
    private readonly IMqttClient _client;
    private readonly Lock _gate = new();
    private readonly HashSet<string> _filters = new(StringComparer.Ordinal);
    private readonly List<Func<IncomingMessage, Task>> _handlers = [];
    private readonly SemaphoreSlim _wake = new(0);
    private CancellationTokenSource? _stopping;
    private Task? _loop;
    private bool _everConnected;
    private MqttProtocolVersion? _fallback;
    private readonly InProcessBroker? _inProcess;
    // One message object reused by publishes over the connection (the client has encoded it into its PUBLISH packet
    // by the time the publish completes); taken with an exchange, so a concurrent publish builds its own.
    private MqttApplicationMessage? _spareMessage = new();

    public MqttTopics Topics { get; }
    public string ClientId { get; }
    /// <summary>True when publishes go straight into this process's own broker (see <see cref="InProcessBroker"/>).</summary>
    public bool PublishesInProcess => _inProcess is not null;
    /// <summary>The in-process route to the embedded broker, when publishes take it.</summary>
    public InProcessBroker? InProcess => _inProcess;
    public bool IsConnected => _client.IsConnected;
    /// <summary>"5" or "3.1.1" once connected.</summary>
    public string? Protocol { get; private set; }
    public int Reconnects { get; private set; }

    /// <summary>Runs after every successful connect, with true when subscriptions had to be renewed.</summary>
    public event Func<bool, Task>? Connected;
    public event Action? Disconnected;

    /// <summary>The retained payload that tells the fleet this device is offline (also the last will).</summary>
    public Func<byte[]> OfflineStatus { get; set; }

    /// <param name="inProcessBroker">The broker this connection's broker address leads to, when it runs in this same
    /// process (the embedded one): messages are then handed to it directly (<see cref="InProcessBroker"/>) rather than
    /// sent to ourselves over loopback; the connection itself still carries subscriptions, the will and liveness.</param>
    /// <param name="brokerSubscriptions">That broker's subscriptions, when followed from before it started: messages no
    /// subscription matches are then not dispatched (see <see cref="InProcessBroker"/>).</param>
    public MqttConnection(MqttOptions options, ILogger logger, MqttServer? inProcessBroker = null, BrokerSubscriptions? brokerSubscriptions = null)
    {
        options.Validate();
        _options = options;
        _logger = logger;
        Topics = new MqttTopics(options.ResolvedDeviceId);
        ClientId = "edgeagent-" + Topics.DeviceId;
        if (inProcessBroker is not null) _inProcess = new InProcessBroker(inProcessBroker, ClientId, brokerSubscriptions);
        OfflineStatus = () => System.Text.Encoding.UTF8.GetBytes($"{{\"online\":false,\"device\":\"{Topics.DeviceId}\"}}");
        _client = new MqttClientFactory().CreateMqttClient();
        _client.ApplicationMessageReceivedAsync += OnMessageAsync;
        _client.DisconnectedAsync += e =>
        {
            if (_stopping is not { IsCancellationRequested: false }) return Task.CompletedTask;
            if (_everConnected && e.ClientWasConnected)
            {
                _logger.LogWarning("MQTT connection to {Broker} lost: {Reason}", _options.Broker, e.Reason);
                Disconnected?.Invoke();
            }
            // Every disconnect wakes the loop, also one that raced the end of a connect (the loop then finds the client
            // connected or not and acts on that), so the loop can sleep without a periodic timeout.
            _wake.Release();
            return Task.CompletedTask;
        };
    }

    public void OnMessage(Func<IncomingMessage, Task> handler)
    {
        lock (_gate) _handlers.Add(handler);
    }

    /// <summary>Adds a QoS 1 subscription now (when connected) and on every later session renewal.</summary>
    public async Task Subscribe(string filter, CancellationToken cancellationToken = default)
    {
        lock (_gate)
            if (!_filters.Add(filter)) return;
        if (_client.IsConnected)
        {
            try { await SubscribeAsync([filter], cancellationToken).ConfigureAwait(false); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The next reconnect renews it; nothing is lost but time.
                _logger.LogWarning("subscribing to {Filter} failed: {Error}", filter, e.Message);
            }
        }
    }

    public async Task Unsubscribe(string filter, CancellationToken cancellationToken = default)
    {
        lock (_gate)
            if (!_filters.Remove(filter)) return;
        if (!_client.IsConnected) return;
        try
        {
            await _client.UnsubscribeAsync(new MqttClientUnsubscribeOptionsBuilder().WithTopicFilter(filter).Build(), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger.LogDebug("unsubscribing from {Filter} failed: {Error}", filter, e.Message);
        }
    }

    /// <summary>
    /// Publishes when connected; false when offline or when the broker did not take it. The message's payload is handed
    /// over: it is not changed afterwards (an in-process broker may keep it as it is, without a copy).
    /// </summary>
    public Task<bool> PublishAsync(OutboundMessage message, CancellationToken cancellationToken = default) =>
        PublishCoreAsync(message.Topic, message.Payload, borrowed: false, message.Qos, message.Retain, message.CorrelationData, cancellationToken);

    /// <summary>
    /// <see cref="PublishAsync(OutboundMessage, CancellationToken)"/> without the message record, from a payload the
    /// caller only lends: it is read until the returned task completes (sent at QoS 0, acknowledged at QoS 1, or
    /// dispatched by an in-process broker, which copies it for whatever it keeps), so a caller may publish from a buffer
    /// it reuses afterwards: the telemetry batches do, which spares a copy of every batch.
    /// </summary>
    public Task<bool> PublishAsync(string topic, ReadOnlyMemory<byte> payload, int qos, bool retain, byte[]? correlationData = null,
        CancellationToken cancellationToken = default) =>
        PublishCoreAsync(topic, payload, borrowed: true, qos, retain, correlationData, cancellationToken);

    private async Task<bool> PublishCoreAsync(string topic, ReadOnlyMemory<byte> payload, bool borrowed, int qos, bool retain, byte[]? correlationData,
        CancellationToken cancellationToken)
    {
        // Offline is offline for the in-process route too: callers queue in the outbox and drain on reconnect, in order.
        if (!_client.IsConnected) return false;
        if (correlationData is not null && Protocol != "5") correlationData = null;
        try
        {
            if (_inProcess is not null)
            {
                await _inProcess.PublishAsync(topic, payload, borrowed, qos, retain, correlationData, cancellationToken).ConfigureAwait(false);
                return true;
            }
            // Built directly rather than with MqttApplicationMessageBuilder, and reused: no message object per publish,
            // and the payload is wrapped (a ReadOnlySequence over the caller's memory), never copied.
            var message = Interlocked.Exchange(ref _spareMessage, null) ?? new MqttApplicationMessage();
            message.Topic = topic;
            message.Payload = new ReadOnlySequence<byte>(payload);
            message.QualityOfServiceLevel = qos >= 1 ? MqttQualityOfServiceLevel.AtLeastOnce : MqttQualityOfServiceLevel.AtMostOnce;
            message.Retain = retain;
            message.CorrelationData = correlationData;
            try
            {
                var result = await _client.PublishAsync(message, cancellationToken).ConfigureAwait(false);
                return result.IsSuccess || result.ReasonCode == MqttClientPublishReasonCode.NoMatchingSubscribers;
            }
            finally
            {
                message.Payload = default;
                message.CorrelationData = null;
                Volatile.Write(ref _spareMessage, message);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _logger.LogDebug("publishing to {Topic} failed: {Error}", topic, e.Message);
            return false;
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Waits until the first connection is up (tests, and start-up ordering).</summary>
    public async Task WaitConnectedAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!_client.IsConnected || Protocol is null)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no connection to {_options.Broker} within {timeout.TotalSeconds:0.#} s");
            await Task.Delay(20).ConfigureAwait(false);
        }
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromMilliseconds(_options.ReconnectMinMs), TimeSpan.FromMilliseconds(_options.ReconnectMaxMs));
        while (!stopping.IsCancellationRequested)
        {
            if (!_client.IsConnected)
            {
                // Wakes from the disconnects before this attempt (failed attempts fire one each) are answered by it.
                while (_wake.Wait(0)) { }
                try
                {
                    await ConnectAsync(stopping).ConfigureAwait(false);
                    backoff.Reset();
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception e)
                {
                    var delay = backoff.Next();
                    _logger.LogWarning("MQTT connect to {Broker} failed (attempt {Attempt}): {Error}; retrying in {Delay} ms",
                        _options.Broker, backoff.Attempt, e.Message, (int)delay.TotalMilliseconds);
                    try { await Task.Delay(delay, stopping).ConfigureAwait(false); }
                    catch (OperationCanceledException) { break; }
                    continue;
                }
            }
            // Sleep until a disconnect wakes us. No timeout: a timed wait allocates its timer, linked token source and
            // state machine every time round, ~0.8 KB every 5 s of an otherwise idle connection.
            try { await _wake.WaitAsync(stopping).ConfigureAwait(false); }
            catch (OperationCanceledException) { break; }
        }
    }

    private async Task ConnectAsync(CancellationToken cancellationToken)
    {
        MqttProtocolVersion version = _options.ProtocolVersion switch
        {
            "3.1.1" => MqttProtocolVersion.V311,
            _ => _fallback ?? MqttProtocolVersion.V500,
        };
        MqttClientConnectResult? result = null;
        Exception? refusal = null;
        try
        {
            result = await _client.ConnectAsync(BuildOptions(version), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException) { refusal = e; }
        if (version == MqttProtocolVersion.V500 && _options.ProtocolVersion == "auto" && RefusedProtocol(result, refusal))
        {
            _logger.LogInformation("broker {Broker} refused MQTT 5 ({Error}); using MQTT 3.1.1", _options.Broker,
                refusal?.Message ?? result?.ResultCode.ToString());
            _fallback = version = MqttProtocolVersion.V311;
            if (_client.IsConnected) await _client.DisconnectAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            result = await _client.ConnectAsync(BuildOptions(version), cancellationToken).ConfigureAwait(false);
        }
        else if (refusal is not null)
        {
            throw refusal;
        }
        if (result!.ResultCode != MqttClientConnectResultCode.Success)
            throw new MqttConnectionException($"broker refused the connection: {result.ResultCode} {result.ReasonString}");
        Protocol = version == MqttProtocolVersion.V500 ? "5" : "3.1.1";
        bool renew = !_everConnected || !result.IsSessionPresent;
        if (_everConnected) Reconnects++;
        _everConnected = true;
        _logger.LogInformation("MQTT {Protocol} connected to {Broker} as {Device} (session {Session})",
            Protocol, _options.Broker, Topics.DeviceId, result.IsSessionPresent ? "resumed" : "new");
        if (renew)
        {
            string[] filters;
            lock (_gate) filters = [.. _filters];
            if (filters.Length > 0) await SubscribeAsync(filters, cancellationToken).ConfigureAwait(false);
        }
        if (Connected is { } connected)
        {
            foreach (var handler in connected.GetInvocationList().Cast<Func<bool, Task>>())
            {
                try { await handler(renew).ConfigureAwait(false); }
                catch (Exception e) { _logger.LogError(e, "MQTT on-connect handler failed"); }
            }
        }
    }

    /// <summary>
    /// A 3.1.1-only broker answers an MQTT 5 CONNECT with return code 1 ("unacceptable protocol version") or simply
    /// closes the socket; either way the second attempt with 3.1.1 settles it. Authentication failures do not.
    /// </summary>
    private static bool RefusedProtocol(MqttClientConnectResult? result, Exception? error) => (result?.ResultCode, error) switch
    {
        (MqttClientConnectResultCode.UnsupportedProtocolVersion or MqttClientConnectResultCode.ProtocolError
            or MqttClientConnectResultCode.MalformedPacket, _) => true,
        (_, MqttConnectingFailedException f) => f.Message.Contains("UnsupportedProtocolVersion", StringComparison.Ordinal)
            || f.Message.Contains("ProtocolError", StringComparison.Ordinal) || f.Message.Contains("MalformedPacket", StringComparison.Ordinal),
        (_, MqttProtocolViolationException) => true,
        (_, MqttCommunicationException c) => c.InnerException is not System.Net.Sockets.SocketException and not OperationCanceledException,
        _ => false,
    };

    private async Task SubscribeAsync(IEnumerable<string> filters, CancellationToken cancellationToken)
    {
        var builder = new MqttClientSubscribeOptionsBuilder();
        foreach (string filter in filters)
            builder.WithTopicFilter(f => f.WithTopic(filter).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce));
        var result = await _client.SubscribeAsync(builder.Build(), cancellationToken).ConfigureAwait(false);
        foreach (var item in result.Items)
            if ((int)item.ResultCode > 2)
                _logger.LogWarning("broker refused subscription {Filter}: {Code}", item.TopicFilter.Topic, item.ResultCode);
    }

    private MqttClientOptions BuildOptions(MqttProtocolVersion version)
    {
        var address = _options.BrokerAddress;
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(address.Host, address.Port)
            .WithClientId(ClientId)
            .WithProtocolVersion(version)
            // In-process, no keep-alive: MQTTnet's keep-alive loop polls every 250 ms with a cancellable delay (~0.85 KB/s
            // of timers and registrations), and what keep-alive detects (a half-open connection, a silent broker) cannot
            // happen between two ends of one process: the broker sees the socket close when the client goes.
            .WithKeepAlivePeriod(_inProcess is null ? TimeSpan.FromSeconds(_options.KeepAliveSeconds) : TimeSpan.Zero)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithWillTopic(Topics.Status)
            .WithWillPayload(OfflineStatus())
            .WithWillRetain(true)
            .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        if (version == MqttProtocolVersion.V500)
            builder.WithCleanStart(false).WithSessionExpiryInterval((uint)_options.SessionExpirySeconds);
        else
            builder.WithCleanSession(false);
        if (_options.Username is not null)
        {
            // Read on every connect so a rotated password is picked up without a restart.
            string password = _options.PasswordFile is null ? "" : ReadFirstLine(_options.PasswordFile);
            builder.WithCredentials(_options.Username, password);
        }
        if (address.Tls) builder.WithTlsOptions(ConfigureTls);
        return builder.Build();
    }

    private void ConfigureTls(MqttClientTlsOptionsBuilder tls)
    {
        tls.UseTls().WithSslProtocols(System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13);
        tls.WithTargetHost(_options.TlsServerName ?? _options.BrokerAddress.Host);
        if (_options.ClientCertFile is not null)
        {
            var certificate = X509Certificate2.CreateFromPemFile(_options.ClientCertFile, _options.ClientKeyFile);
            tls.WithClientCertificates([certificate]);
        }
        if (_options.CaFile is not null)
        {
            var trusted = new X509Certificate2Collection();
            trusted.ImportFromPemFile(_options.CaFile);
            tls.WithCertificateValidationHandler(args => TlsTrust.ValidateAgainst(trusted, args.Certificate, args.Chain, args.SslPolicyErrors));
        }
    }

    private static string ReadFirstLine(string path)
    {
        using var reader = new StreamReader(path);
        return reader.ReadLine()?.TrimEnd('\r') ?? throw new MqttOptionsException($"{MqttOptions.Section}:PasswordFile: '{path}' is empty");
    }

    private async Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        var m = e.ApplicationMessage;
        var message = new IncomingMessage(m.Topic, m.Payload.ToArray(), m.ResponseTopic, m.CorrelationData, m.Retain);
        Func<IncomingMessage, Task>[] handlers;
        lock (_gate) handlers = [.. _handlers];
        foreach (var handler in handlers)
        {
            try { await handler(message).ConfigureAwait(false); }
            catch (Exception error)
            {
                // A handler's bug must not take the connection (and every other handler) down with it.
                _logger.LogError(error, "handling a message on {Topic} failed", message.Topic);
            }
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_stopping is null) return;
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null) await _loop.ConfigureAwait(false);
        if (_client.IsConnected)
        {
            // A clean stop says so itself (a DISCONNECT suppresses the will), so publish the offline status first.
            await PublishAsync(new OutboundMessage(Topics.Status, OfflineStatus(), 1, Retain: true), cancellationToken).ConfigureAwait(false);
            try { await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), cancellationToken).ConfigureAwait(false); }
            catch (Exception e) when (e is not OperationCanceledException) { _logger.LogDebug("disconnect failed: {Error}", e.Message); }
        }
        _stopping = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _client.Dispose();
    }
}

public sealed class MqttConnectionException(string message) : Exception(message);
