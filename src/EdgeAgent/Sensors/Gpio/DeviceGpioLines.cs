using System.Device.Gpio;
using System.Device.Gpio.Drivers;

namespace EdgeAgent.Daemon.Sensors.Gpio;

/// <summary><see cref="IGpioLines"/> on System.Device.Gpio's libgpiod driver for one gpiochip.</summary>
public sealed class DeviceGpioLines : IGpioLines
{
    private readonly GpioController _controller;
    private readonly List<(int Pin, PinChangeEventHandler Handler)> _callbacks = [];

    public DeviceGpioLines(int chip)
    {
        string device = $"/dev/gpiochip{chip}";
        if (!File.Exists(device)) throw new SensorException($"{device} does not exist (gpio:chip = {chip}); 'edgeagent doctor' lists the chips found");
        _controller = new GpioController(new LibGpiodDriver(chip));
    }

    public void OpenOutput(int pin, bool high) => _controller.OpenPin(pin, PinMode.Output, high ? PinValue.High : PinValue.Low);

    public void Write(int pin, bool high) => _controller.Write(pin, high ? PinValue.High : PinValue.Low);

    public void WatchInput(int pin, bool risingEdge, Action<int> onEdge)
    {
        _controller.OpenPin(pin, risingEdge ? PinMode.InputPullDown : PinMode.InputPullUp);
        PinChangeEventHandler handler = (_, e) => onEdge(e.PinNumber);
        _controller.RegisterCallbackForPinValueChangedEvent(pin, risingEdge ? PinEventTypes.Rising : PinEventTypes.Falling, handler);
        _callbacks.Add((pin, handler));
    }

    public void Dispose()
    {
        foreach (var (pin, handler) in _callbacks) _controller.UnregisterCallbackForPinValueChangedEvent(pin, handler);
        _controller.Dispose();
    }
}
