namespace EdgeAgent.Daemon.Sensors.Gpio;

/// <summary>
/// The few GPIO operations the daemon needs, so the output and button logic is tested without hardware.
/// Pins are BCM numbers on the configured gpiochip.
/// </summary>
public interface IGpioLines : IDisposable
{
    void OpenOutput(int pin, bool high);

    void Write(int pin, bool high);

    /// <summary>Opens an input with the pull resistor that keeps it idle (up for a falling-edge button) and calls back on the edge.</summary>
    void WatchInput(int pin, bool risingEdge, Action<int> onEdge);
}
