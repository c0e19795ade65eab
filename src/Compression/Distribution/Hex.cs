using System.Security.Cryptography;

namespace EdgeAgent.Compression.Distribution;

/// <summary>Lowercase hex SHA-256 names: the only form manifests and topics use, so comparisons are ordinal.</summary>
public static class Hex
{
    public static string Sha256(ReadOnlySpan<byte> data)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(data, hash);
        return Convert.ToHexStringLower(hash);
    }

    public static string Sha256File(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    public static bool IsSha256(string? value)
    {
        if (value is not { Length: 64 }) return false;
        foreach (char c in value)
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f')) return false;
        return true;
    }
}
