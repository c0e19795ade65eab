using EdgeAgent.Daemon.Configuration;
using EdgeAgent.Daemon.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Daemon.Hosting;

/// <summary>
/// Loads the model in <see cref="StartAsync"/>, before the host reports started: systemd's READY=1 (sent by
/// the systemd lifetime once every hosted service has started) therefore means "a model is serving".
/// </summary>
internal sealed class ModelLoaderService(ModelHost models, EdgeAgentOptions options, ILogger<ModelLoaderService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var served = await models.LoadAtStartupAsync(options.Model.DemoBundle, cancellationToken).ConfigureAwait(false);
        var d = served.Descriptor;
        Log.ModelServing(logger, d.Name, d.Version, d.ClassCount, d.WindowSize, d.Channels);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
