using System.Device.I2c;

namespace EdgeAgent.Tests.Sensors.Emulators;

/// <summary>
/// An emulated I2C chip with 8-bit registers and an auto-incrementing register pointer (the BME280 and
/// MPU-6050 protocol): a write's first byte sets the pointer, further bytes are written to successive
/// registers (or, for chips that take register/value pairs, to the registers the pairs name); a read returns
/// successive registers from the pointer. Subclasses implement what writes to control registers do.
/// </summary>
public abstract class ByteRegisterDevice(int address) : I2cDevice
{
    protected readonly byte[] Registers = new byte[256];
    private byte _pointer;

    public override I2cConnectionSettings ConnectionSettings { get; } = new(1, address);

    public List<(byte Register, byte Value)> Writes { get; } = [];

    /// <summary>True for chips whose multi-byte writes are register/value pairs (BME280, datasheet 6.2.1).</summary>
    protected virtual bool WritesArePairs => false;

    public override byte ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        Read(one);
        return one[0];
    }

    public override void Read(Span<byte> buffer)
    {
        for (int i = 0; i < buffer.Length; i++) buffer[i] = ReadRegister(_pointer++);
    }

    public override void WriteByte(byte value) => _pointer = value;

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length == 0) return;
        _pointer = buffer[0];
        if (WritesArePairs)
        {
            for (int i = 0; i + 1 < buffer.Length; i += 2)
            {
                byte register = i == 0 ? buffer[0] : buffer[i];
                WriteRegisterChecked(register, buffer[i + 1]);
            }
            return;
        }
        for (int i = 1; i < buffer.Length; i++) WriteRegisterChecked(_pointer++, buffer[i]);
    }

    public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer)
    {
        Write(writeBuffer);
        Read(readBuffer);
    }

    private void WriteRegisterChecked(byte register, byte value)
    {
        Writes.Add((register, value));
        OnWrite(register, value);
    }

    protected virtual byte ReadRegister(byte register) => Registers[register];

    protected virtual void OnWrite(byte register, byte value) => Registers[register] = value;

    public byte Register(byte register) => Registers[register];

    /// <summary>Sets a register behind the protocol's back, as a different chip revision or a fault would.</summary>
    public void Poke(byte register, byte value) => Registers[register] = value;
}
