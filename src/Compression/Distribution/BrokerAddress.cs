namespace EdgeAgent.Compression.Distribution;

/// <summary>A broker written as <c>mqtt://HOST[:PORT]</c> or <c>mqtts://HOST[:PORT]</c> (TLS; default ports 1883, 8883).</summary>
public sealed record BrokerAddress(string Host, int Port, bool Tls)
{
    public static BrokerAddress Parse(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri))
            throw new TransferException($"broker '{text}' is not a URI; expected mqtt://HOST:PORT or mqtts://HOST:PORT");
        bool tls = uri.Scheme switch
        {
            "mqtt" or "tcp" => false,
            "mqtts" or "ssl" => true,
            _ => throw new TransferException($"broker '{text}' has scheme '{uri.Scheme}'; expected mqtt or mqtts"),
        };
        if (string.IsNullOrEmpty(uri.Host)) throw new TransferException($"broker '{text}' has no host");
        if (uri.AbsolutePath is not ("" or "/")) throw new TransferException($"broker '{text}' has a path; expected only host and port");
        return new BrokerAddress(uri.Host, uri.IsDefaultPort || uri.Port < 0 ? (tls ? 8883 : 1883) : uri.Port, tls);
    }

    public override string ToString() => $"{(Tls ? "mqtts" : "mqtt")}://{Host}:{Port}";
}
