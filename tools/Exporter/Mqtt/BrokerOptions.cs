using System.CommandLine;
using EdgeAgent.Compression.Distribution;
using EdgeAgent.Exporter.Cli;

namespace EdgeAgent.Exporter.Mqtt;

/// <summary>The broker options shared by the commands that talk to devices (publish, fleet aggregate).</summary>
internal sealed class BrokerOptions
{
    public Option<string> Broker { get; } = new("--broker") { Description = "mqtt://HOST:PORT or mqtts://HOST:PORT", Required = true, HelpName = "URL" };
    public Option<string?> Ca { get; } = new("--tls-ca") { Description = "PEM CA certificate that signs the broker's certificate.", HelpName = "FILE" };
    public Option<string?> Cert { get; } = new("--tls-cert") { Description = "PEM client certificate.", HelpName = "FILE" };
    public Option<string?> Key { get; } = new("--tls-key") { Description = "PEM private key of the client certificate.", HelpName = "FILE" };
    public Option<string?> Username { get; } = new("--username") { Description = "Broker user name.", HelpName = "NAME" };
    public Option<string?> PasswordFile { get; } = new("--password-file") { Description = "File whose first line is the broker password.", HelpName = "FILE" };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Broker, Ca, Cert, Key, Username, PasswordFile }) command.Options.Add(option);
    }

    public BrokerSettings Read(ParseResult parse)
    {
        BrokerAddress address;
        try { address = BrokerAddress.Parse(parse.GetValue(Broker)!); }
        catch (TransferException e) { throw new UsageException($"--broker: {e.Message}"); }
        string? ca = parse.GetValue(Ca), cert = parse.GetValue(Cert), key = parse.GetValue(Key);
        if ((cert is null) != (key is null)) throw new UsageException("--tls-cert and --tls-key go together");
        if ((ca ?? cert) is not null && !address.Tls) throw new UsageException("TLS files given but --broker is mqtt://; use mqtts://");
        string? passwordFile = parse.GetValue(PasswordFile);
        if (passwordFile is not null && parse.GetValue(Username) is null) throw new UsageException("--password-file needs --username");
        return new BrokerSettings(address,
            ca is null ? null : Paths.ExistingFile(ca, "--tls-ca"),
            cert is null ? null : Paths.ExistingFile(cert, "--tls-cert"),
            key is null ? null : Paths.ExistingFile(key, "--tls-key"),
            parse.GetValue(Username),
            passwordFile is null ? null : Paths.ExistingFile(passwordFile, "--password-file"));
    }
}
