using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Daemon.Mqtt;

/// <summary>
/// Everything the daemon does over MQTT, assembled: the connection, commands, status, telemetry, events with store
/// and forward, and model distribution. The host starts it once and stops it on shutdown; inference never waits on it
/// (<see cref="PostTelemetry"/> and <see cref="PublishEventAsync"/> queue and return).
/// </summary>
public sealed class MqttControlPlane : IAsyncDisposable
{
    private readonly MqttOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _loops = [];

    public MqttConnection Connection { get; }
    public CommandRegistry Commands { get; } = new();
    public CommandDispatcher Dispatcher { get; }
    public Outbox Outbox { get; }
    public EventPublisher Events { get; }
    public TelemetryBatcher Telemetry { get; }
    public StatusPublisher Status { get; }
    public ModelSync Models { get; }
    public DeltaPublisher Deltas { get; }

    /// <param name="inProcessBroker">The embedded broker when it runs in this process and is the one connected to: see
    /// <see cref="InProcessBroker"/>.</param>
    /// <param name="brokerSubscriptions">Its subscriptions, followed from before it started (see <see cref="BrokerSubscriptions"/>).</param>
    public MqttControlPlane(MqttOptions options, IDeviceControl device, IModelStore store, IBundleVerifier verifier, ILoggerFactory loggers,
        string softwareVersion, MQTTnet.Server.MqttServer? inProcessBroker = null, BrokerSubscriptions? brokerSubscriptions = null)
    {
        options.Validate();
        _options = options;
        _logger = loggers.CreateLogger("EdgeAgent.Mqtt");
        Connection = new MqttConnection(options, loggers.CreateLogger("EdgeAgent.Mqtt.Connection"), inProcessBroker, brokerSubscriptions);
        Outbox = new Outbox(options.OutboxPath, options.OutboxCapacity);
        Events = new EventPublisher(Connection, Outbox, _logger);
        Telemetry = new TelemetryBatcher(Events, Connection.Topics.Telemetry, TimeSpan.FromMilliseconds(options.TelemetryIntervalMs), options.TelemetryBatchMax);
        Models = new ModelSync(Connection, options, store, verifier, Events, loggers.CreateLogger("EdgeAgent.Mqtt.ModelSync"));
        Deltas = new DeltaPublisher(Connection, options, Events, loggers.CreateLogger("EdgeAgent.Mqtt.Deltas"));
        Status = new StatusPublisher(Connection, device, Models.Progress, () => Outbox, () => Telemetry.Dropped);
        Dispatcher = new CommandDispatcher(Connection, Commands, options.MaxCommandBytes, loggers.CreateLogger("EdgeAgent.Mqtt.Commands"));
        DeviceCommands.Register(Commands, device, store, Models, Status.Snapshot);
        Models.ModelChanged += changed => { _ = Status.PublishAsync(); };
        Connection.Connected += async _ =>
        {
            await Status.PublishAsync().ConfigureAwait(false);
            if (options.HomeAssistantDiscovery)
                foreach (var message in HomeAssistantDiscovery.Messages(Connection.Topics, options.HomeAssistantPrefix, softwareVersion))
                    await Connection.PublishAsync(message).ConfigureAwait(false);
        };
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Filters first, so the first connection subscribes to everything in one go.
        await Dispatcher.SubscribeAsync(cancellationToken).ConfigureAwait(false);
        await Models.SubscribeAsync(cancellationToken).ConfigureAwait(false);
        await Connection.StartAsync(_stopping.Token).ConfigureAwait(false);
        var token = _stopping.Token;
        _loops.Add(Task.Run(() => Dispatcher.RunAsync(token), CancellationToken.None));
        _loops.Add(Task.Run(() => Telemetry.RunAsync(token), CancellationToken.None));
        _loops.Add(Task.Run(() => Status.RunAsync(TimeSpan.FromSeconds(_options.StatusIntervalSeconds), token), CancellationToken.None));
    }

    public void PostTelemetry(JsonObject sample) => Telemetry.Post(sample);

    public void PostTelemetry(in Inference.InferenceRecord record) => Telemetry.Post(record);

    public Task PublishEventAsync(string type, JsonObject? fields = null) => Events.PublishEventAsync(type, fields);

    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_stopping.IsCancellationRequested) return;
        await _stopping.CancelAsync().ConfigureAwait(false);
        try { await Task.WhenAll(_loops).ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        try { await Telemetry.FlushAsync(cancellationToken).ConfigureAwait(false); }
        catch (Exception e) { _logger.LogWarning("final telemetry flush failed: {Error}", e.Message); }
        await Connection.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await Connection.DisposeAsync().ConfigureAwait(false);
        Models.Dispose();
        Deltas.Dispose();
        Outbox.Dispose();
        _stopping.Dispose();
    }
}
