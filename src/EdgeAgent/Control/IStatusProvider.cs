namespace EdgeAgent.Daemon.Control;

/// <summary>
/// The daemon's state in one snapshot, for the retained MQTT <c>status</c> message, the <c>status</c> command,
/// <c>doctor</c> and systemd's STATUS= line. Cheap to call: it only reads counters.
/// </summary>
public interface IStatusProvider
{
    DaemonStatus GetStatus();
}
