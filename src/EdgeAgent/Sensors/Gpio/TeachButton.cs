namespace EdgeAgent.Daemon.Sensors.Gpio;

/// <summary>
/// A push button that labels the current window: edges closer together than the debounce time (contact
/// bounce) count once. The labelling itself is the callback's business.
/// </summary>
public sealed class TeachButton
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _debounce;
    private readonly Action _pressed;
    private long _lastAccepted;
    private bool _any;
    private readonly object _gate = new();

    public TeachButton(IGpioLines lines, int pin, bool risingEdge, TimeSpan debounce, TimeProvider time, Action pressed)
    {
        _time = time;
        _debounce = debounce;
        _pressed = pressed;
        lines.WatchInput(pin, risingEdge, _ => OnEdge());
    }

    public long Presses { get; private set; }

    private void OnEdge()
    {
        long now = _time.GetTimestamp();
        lock (_gate)
        {
            if (_any && _time.GetElapsedTime(_lastAccepted, now) < _debounce) return;
            _any = true;
            _lastAccepted = now;
            Presses++;
        }
        _pressed();
    }
}
