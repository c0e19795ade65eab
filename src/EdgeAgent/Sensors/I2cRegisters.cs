using System.Buffers.Binary;
using System.Device.I2c;

namespace EdgeAgent.Daemon.Sensors;

/// <summary>
/// Register access as the drivers' chips define it: a write of the register address, then a read of its
/// value (8-bit, or 16-bit big-endian as the TI ADCs/monitors send it), and writes of address + value in one
/// transaction so no other bus master can interleave.
/// </summary>
internal static class I2cRegisters
{
    public static byte ReadRegister8(this I2cDevice device, byte register)
    {
        Span<byte> value = stackalloc byte[1];
        device.WriteRead([register], value);
        return value[0];
    }

    public static void WriteRegister8(this I2cDevice device, byte register, byte value) => device.Write([register, value]);

    public static ushort ReadRegister16(this I2cDevice device, byte register)
    {
        Span<byte> value = stackalloc byte[2];
        device.WriteRead([register], value);
        return BinaryPrimitives.ReadUInt16BigEndian(value);
    }

    public static void WriteRegister16(this I2cDevice device, byte register, ushort value)
    {
        Span<byte> bytes = [register, 0, 0];
        BinaryPrimitives.WriteUInt16BigEndian(bytes[1..], value);
        device.Write(bytes);
    }
}
