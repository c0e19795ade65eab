using System.Device.I2c;

namespace EdgeAgent.Tests.Sensors.Emulators;

/// <summary>
/// An emulated I2C chip with 16-bit big-endian registers behind a pointer register (the ADS1115 and INA219
/// protocol): a one-byte write sets the pointer, a three-byte write sets the pointer and writes the register,
/// a two-byte read returns the pointed register, most significant byte first. The pointer does not advance.
/// </summary>
public abstract class WordRegisterDevice(int address) : I2cDevice
{
    protected readonly ushort[] Registers = new ushort[256];
    private byte _pointer;

    public override I2cConnectionSettings ConnectionSettings { get; } = new(1, address);

    public List<(byte Register, ushort Value)> Writes { get; } = [];

    public override byte ReadByte() => throw new IOException("this chip answers reads of two bytes");

    public override void Read(Span<byte> buffer)
    {
        if (buffer.Length != 2) throw new IOException($"read of {buffer.Length} bytes: registers are 16-bit");
        ushort value = ReadRegister(_pointer);
        buffer[0] = (byte)(value >> 8);
        buffer[1] = (byte)value;
    }

    public override void WriteByte(byte value) => _pointer = value;

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length is not (1 or 3)) throw new IOException($"write of {buffer.Length} bytes: expected a pointer byte, optionally followed by a 16-bit value");
        _pointer = buffer[0];
        if (buffer.Length == 3)
        {
            ushort value = (ushort)(buffer[1] << 8 | buffer[2]);
            Writes.Add((_pointer, value));
            OnWrite(_pointer, value);
        }
    }

    public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer)
    {
        Write(writeBuffer);
        Read(readBuffer);
    }

    protected virtual ushort ReadRegister(byte register) => Registers[register];

    protected virtual void OnWrite(byte register, ushort value) => Registers[register] = value;

    public ushort Register(byte register) => Registers[register];
}
