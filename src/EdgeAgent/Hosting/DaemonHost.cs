using EdgeAgent.Daemon.Configuration;
using EdgeAgent.Daemon.Control;
using EdgeAgent.Daemon.Control.Commands;
using EdgeAgent.Daemon.Inference;
using EdgeAgent.Daemon.Models;
using EdgeAgent.Daemon.Pipeline;
using EdgeAgent.Daemon.Reservoir;
using EdgeAgent.Daemon.Sensors;
using EdgeAgent.Daemon.Sensors.Gpio;
using EdgeAgent.Daemon.Sensors.Topics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Daemon.Hosting;

/// <summary>
/// Builds the daemon's host: every long loop a hosted service, registered in start order (model first, so
/// READY means serving; embedded broker before the MQTT client). Other parts of the daemon plug in through
/// the partial methods below, implemented in their own folders (MQTT in <c>Mqtt/</c>, learning in
/// <c>Learning/</c>); an unimplemented partial method compiles to nothing.
/// </summary>
public static partial class DaemonHost
{
    /// <summary>Registers the MQTT client, command transport, telemetry and OTA (src/EdgeAgent/Mqtt).</summary>
    static partial void AddMqtt(IServiceCollection services, EdgeAgentOptions options);

    /// <summary>Registers the on-device learner that trains from the reservoir (src/EdgeAgent/Learning).</summary>
    static partial void AddLearning(IServiceCollection services, EdgeAgentOptions options);

    public static IHost Build(EdgeAgentOptions options, IConfigurationRoot configuration, DaemonHostSettings settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings
        {
            ApplicationName = "edgeagent",
            ContentRootPath = AppContext.BaseDirectory,
        });
        var services = builder.Services;
        services.AddSystemd();
        services.Configure<HostOptions>(o =>
        {
            // systemd's default TimeoutStopSec is 90 s; we aim to be done well within it.
            o.ShutdownTimeout = TimeSpan.FromSeconds(20);
            o.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.StopHost;
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
            o.UseUtcTimestamp = true;
        });
        builder.Logging.SetMinimumLevel(Enum.Parse<LogLevel>(options.Logging.Level));
        builder.Logging.AddFilter("Microsoft.Hosting", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.Warning);

        services.AddSingleton(options);
        services.AddSingleton(configuration);
        services.AddSingleton<IConfiguration>(configuration);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(BrokerEndpoint.From(options.Mqtt));
        services.AddSingleton<EventHub>();
        services.AddSingleton<IEventSink>(sp => sp.GetRequiredService<EventHub>());
        services.AddSingleton<PipelineMetrics>();
        services.AddSingleton<BrokerTraffic>();
        services.AddSingleton<Broadcast<InferenceRecord>>();

        services.AddSingleton<Models.IBundleVerifier>(_ => BundleVerifiers.Create(options.Model));
        services.AddSingleton<IInferenceEngineFactory>(sp => InferenceEngines.CreateFactory(options.Runtime, sp.GetRequiredService<ILoggerFactory>().CreateLogger("EdgeAgent.Daemon.Inference")));
        services.AddSingleton<IModelStore>(sp => new ModelStore(options.Model.StoreDirectory, options.Model.Keep, sp.GetRequiredService<Models.IBundleVerifier>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new ModelHost(options.Model.Name, sp.GetRequiredService<IModelStore>(), sp.GetRequiredService<Models.IBundleVerifier>(),
            sp.GetRequiredService<IInferenceEngineFactory>(), sp.GetRequiredService<IEventSink>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IReservoir>(sp => new LiteDbReservoir(ReservoirSettings.From(options.Reservoir), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IStatusProvider>(sp => new StatusProvider(options, sp.GetRequiredService<ModelHost>(), sp.GetRequiredService<PipelineMetrics>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IReservoir>(), sp.GetService<Learning.DriftMonitor>()));
        services.AddSingleton<SensorRegistry>();
        services.AddSingleton<ITopicReadingRouter>(sp => sp.GetRequiredService<SensorRegistry>().TopicRouter);

        services.AddSingleton<ICommandHandler, PingCommand>();
        services.AddSingleton<ICommandHandler, StatusCommand>();
        services.AddSingleton<ICommandHandler, ConfigGetCommand>();
        services.AddSingleton<ICommandHandler, ModelListCommand>();
        services.AddSingleton<ICommandHandler, ModelRollbackCommand>();
        services.AddSingleton<ICommandHandler, LabelCommand>();
        services.AddSingleton<ICommandHandler, ReservoirStatsCommand>();
        services.AddSingleton<CommandRegistry>();

        // Start order matters: sampling starts at once, so the first window fills while the model loads (READY, sent
        // once every service has started, still means serving); the broker before any client. Sampling stops on
        // the host's stopping signal, ahead of the reverse-order stops below.
        services.AddHostedService<SamplingService>();
        services.AddHostedService<ModelLoaderService>();
        services.AddSingleton<WindowQueue>(sp => new WindowQueue(options.Pipeline.WindowQueue, sp.GetRequiredService<PipelineMetrics>()));
        // Stopped in reverse: inference stops before the reservoir flushes and closes.
        services.AddHostedService<ReservoirService>();
        services.AddHostedService<InferenceService>();
        if (settings.PrintToConsole) services.AddHostedService<ConsoleReporterService>();
        // After the inference loop and its console, which do not need it: the first inference does not wait for the broker.
        // Also a singleton: the MQTT control plane publishes into it in-process (Mqtt/InProcessBroker).
        services.AddSingleton<EmbeddedBrokerService>();
        services.AddHostedService(sp => sp.GetRequiredService<EmbeddedBrokerService>());
        services.AddHostedService<GpioService>();
        services.AddHostedService<WatchdogService>();
        services.AddHostedService<StartupMemoryTrim>();
        services.AddHostedService<EventLogService>();

        services.AddSingleton<Mqtt.IDeviceControl>(sp => new MqttBridge.DaemonDeviceControl(
            sp.GetRequiredService<IStatusProvider>(), configuration, sp.GetRequiredService<IReservoir>(), sp.GetService<Learning.ILearningControl>()));
        services.AddSingleton<Mqtt.IModelStore>(sp => new MqttBridge.ModelStoreAdapter(sp.GetRequiredService<ModelHost>()));
        services.AddSingleton<Mqtt.IBundleVerifier>(sp => new MqttBridge.BundleVerifierAdapter(sp.GetRequiredService<Models.IBundleVerifier>()));
        services.AddHostedService<MqttBridge.MqttControlPlaneService>();
        AddMqtt(services, options);
        AddLearning(services, options);
        settings.ConfigureServices?.Invoke(services);
        return builder.Build();
    }
}
