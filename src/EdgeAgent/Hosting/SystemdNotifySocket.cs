using System.Net.Sockets;

namespace EdgeAgent.Daemon.Hosting;

/// <summary>
/// sd_notify(3) over one datagram socket kept connected to systemd's <c>NOTIFY_SOCKET</c>, for messages sent for the
/// daemon's whole life (the watchdog ping and its STATUS line). The hosting library's notifier opens, connects and
/// closes a socket for every message, ~1 KB of allocation each: with <c>WatchdogSec=30</c> two messages every 15 s, as
/// much as the rest of the idle daemon allocates. Here a message is sent from the caller's bytes with no allocation; a
/// send that fails (systemd re-executed and bound its socket anew) reconnects once and retries.
/// </summary>
internal sealed class SystemdNotifySocket : IDisposable
{
    private readonly UnixDomainSocketEndPoint _endPoint;
    private readonly Lock _gate = new();
    private Socket? _socket;
    private bool _disposed;

    /// <param name="path">A socket path, or an abstract socket name with its leading '@' (as systemd sets it).</param>
    public SystemdNotifySocket(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        // An abstract socket's name starts with a NUL byte; systemd writes it as '@'.
        _endPoint = new UnixDomainSocketEndPoint(path[0] == '@' ? "\0" + path[1..] : path);
        Path = path;
    }

    public string Path { get; }

    /// <summary>The socket systemd asked this process to notify (<c>NOTIFY_SOCKET</c>), or null when there is none.</summary>
    public static SystemdNotifySocket? FromEnvironment() =>
        Environment.GetEnvironmentVariable("NOTIFY_SOCKET") is { Length: > 0 } path ? new SystemdNotifySocket(path) : null;

    /// <summary>Sends one notification (e.g. <c>WATCHDOG=1</c>); false when systemd's socket cannot be reached.</summary>
    public bool TrySend(ReadOnlySpan<byte> message)
    {
        lock (_gate)
        {
            if (_disposed) return false;
            for (int attempt = 0; attempt < 2; attempt++)
            {
                try
                {
                    if (_socket is null)
                    {
                        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
                        try
                        {
                            socket.Connect(_endPoint);
                        }
                        catch
                        {
                            socket.Dispose();
                            throw;
                        }
                        _socket = socket;
                    }
                    _socket.Send(message);
                    return true;
                }
                catch (SocketException)
                {
                    _socket?.Dispose();
                    _socket = null;
                }
            }
            return false;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _socket?.Dispose();
            _socket = null;
        }
    }
}
