using EdgeAgent.Compression.Signing;
using EdgeAgent.Daemon.Configuration;
using EdgeAgent.Daemon.Control;
using EdgeAgent.Daemon.Learning;
using EdgeAgent.Daemon.Models;
using EdgeAgent.Daemon.Reservoir;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Daemon.Hosting;

public static partial class DaemonHost
{
    /// <summary>
    /// The learner and what it needs: the device key (created on first start), the verifier that trusts it
    /// for this device's own versions (registered after the fleet one, so it is the one resolved), the
    /// updater and the hosted learner service. Registered even with <c>learning:enabled</c> false, which
    /// only stops automatic updates: versions learnt earlier must still verify at start-up.
    /// </summary>
    static partial void AddLearning(IServiceCollection services, EdgeAgentOptions options)
    {
        string learningDirectory = Path.Combine(options.Device.StateDirectory, "learning");
        services.AddSingleton(_ => DeviceSigningKey.LoadOrCreate(learningDirectory));
        services.AddSingleton<IBundleVerifier>(sp => new DeviceKeyBundleVerifier(
            BundleVerifiers.Create(options.Model),
            sp.GetRequiredService<BundleSigningKey>().PublicKey,
            options.Model.Name,
            (name, version) => File.Exists(Path.Combine(options.Model.StoreDirectory, name, version, ModelStore.BundleFileName))));
        services.AddSingleton(sp => new HeadUpdater(sp.GetRequiredService<ModelHost>(), sp.GetRequiredService<IReservoir>(),
            sp.GetRequiredService<IEventSink>(), sp.GetRequiredService<BundleSigningKey>(), options.Learning,
            Path.Combine(learningDirectory, "staging"), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new LearnerService(sp.GetRequiredService<HeadUpdater>(), sp.GetRequiredService<IReservoir>(),
            sp.GetRequiredService<IEventSink>(), options.Learning, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<LearnerService>>()));
        services.AddSingleton<ILearningControl>(sp => sp.GetRequiredService<LearnerService>());
        services.AddHostedService(sp => sp.GetRequiredService<LearnerService>());
        services.AddSingleton(sp => new DriftMonitor(options.Learning, sp.GetRequiredService<IEventSink>(), sp.GetRequiredService<TimeProvider>(),
            Path.Combine(learningDirectory, "drift-reference.json")));
        services.AddHostedService(sp => new DriftService(sp.GetRequiredService<DriftMonitor>(), options.Learning,
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<DriftService>>()));
        if (options.Learning.LabelRule != "none")
            services.AddHostedService(sp => new LabelRuleService(sp.GetRequiredService<Broadcast<Inference.InferenceRecord>>(), sp.GetRequiredService<IReservoir>(),
                LabelRuleService.Truth(options.Learning.LabelRule, sp.GetRequiredService<Sensors.SensorRegistry>()), options.Learning.LabelEvery));
    }
}
