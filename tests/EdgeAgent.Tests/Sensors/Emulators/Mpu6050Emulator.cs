using EdgeAgent.Daemon.Sensors.Mpu6050;

namespace EdgeAgent.Tests.Sensors.Emulators;

/// <summary>
/// An MPU-6050 at register level: WHO_AM_I 0x68, asleep after power-on (PWR_MGMT_1 = 0x40) and answering
/// zeros from the data registers until woken, sensor data as big-endian 16-bit two's complement values
/// scaled by the configured full-scale ranges.
/// </summary>
public sealed class Mpu6050Emulator : ByteRegisterDevice
{
    public Mpu6050Emulator(int address = 0x68) : base(address)
    {
        Registers[Mpu6050Registers.WhoAmI] = Mpu6050Registers.WhoAmIValue;
        Registers[Mpu6050Registers.PowerManagement1] = Mpu6050Registers.Sleep;
    }

    public bool Asleep => (Registers[Mpu6050Registers.PowerManagement1] & Mpu6050Registers.Sleep) != 0;

    public int AccelRangeG => 2 << (Registers[Mpu6050Registers.AccelConfig] >> 3 & 3);

    public double GyroRangeDps => 250 << (Registers[Mpu6050Registers.GyroConfig] >> 3 & 3);

    public double SampleRateHz
    {
        get
        {
            int dlpf = Registers[Mpu6050Registers.Config] & 7;
            double gyroRate = dlpf is 0 or 7 ? 8000 : 1000;
            return gyroRate / (1 + Registers[Mpu6050Registers.SampleRateDivider]);
        }
    }

    /// <summary>Sets the physical quantities; the emulator converts them with the current ranges, like the chip.</summary>
    public void SetMotion(double ax, double ay, double az, double gx, double gy, double gz, double temperatureCelsius)
    {
        double accelLsb = 32768.0 / AccelRangeG;
        double gyroLsb = Mpu6050Registers.GyroLsbPerDps[Registers[Mpu6050Registers.GyroConfig] >> 3 & 3];
        Put(0x3B, ax * accelLsb);
        Put(0x3D, ay * accelLsb);
        Put(0x3F, az * accelLsb);
        Put(0x41, (temperatureCelsius - 36.53) * 340);
        Put(0x43, gx * gyroLsb);
        Put(0x45, gy * gyroLsb);
        Put(0x47, gz * gyroLsb);
    }

    private void Put(byte register, double value)
    {
        short raw = (short)Math.Clamp(Math.Round(value), short.MinValue, short.MaxValue);
        Registers[register] = (byte)(raw >> 8);
        Registers[register + 1] = (byte)raw;
    }

    protected override byte ReadRegister(byte register) =>
        Asleep && register is >= 0x3B and <= 0x48 ? (byte)0 : Registers[register];

    protected override void OnWrite(byte register, byte value)
    {
        if (register == Mpu6050Registers.WhoAmI) return; // read-only
        if (register == Mpu6050Registers.PowerManagement1 && (value & Mpu6050Registers.DeviceReset) != 0)
        {
            Registers[Mpu6050Registers.PowerManagement1] = Mpu6050Registers.Sleep;
            return;
        }
        Registers[register] = value;
    }
}
