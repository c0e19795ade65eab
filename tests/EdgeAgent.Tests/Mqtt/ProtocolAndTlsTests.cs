using System.Buffers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Xunit;

namespace EdgeAgent.Tests.Mqtt;

public sealed class ProtocolAndTlsTests
{
    [Fact]
    public async Task Mqtt311ModeConnectsAndAnswersCommands()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        using var bundles = new TestBundles();
        await using var device = new DeviceHarness(broker, bundles, "v311-dev", configure: o => o.ProtocolVersion = "3.1.1");
        await device.StartAsync();
        Assert.Equal("3.1.1", device.Plane.Connection.Protocol);
        await using var op = await TestClient.ConnectAsync(broker);
        await op.SubscribeAsync("edgeagent/v311-dev/reply/#");
        await op.PublishAsync("edgeagent/v311-dev/cmd/status", """{"id":"s"}""");
        var reply = await op.WaitForAsync(m => m.Topic.EndsWith("/reply/status"), what: "status reply");
        Assert.Equal("3.1.1", JsonDocument.Parse(reply.Payload.ToArray()).RootElement.GetProperty("result").GetProperty("protocol").GetString());
    }

    /// <summary>A TLS listener that requires a client certificate: the device connects with its certificate, and
    /// a device without one (or trusting another CA) never does.</summary>
    [Fact]
    public async Task TlsWithAClientCertificateConnectsAndOtherwiseIsRefused()
    {
        string dir = Path.Combine(Path.GetTempPath(), "edgeagent-tls-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=edgeagent test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        // One clock reading for every certificate: a leaf may not outlive its issuer, even by the second between two reads.
        var now = DateTimeOffset.UtcNow;
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(2));
        void Issue(string name, string cn, bool server)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=" + cn, key, HashAlgorithmName.SHA256);
            if (server)
            {
                var san = new SubjectAlternativeNameBuilder();
                san.AddIpAddress(System.Net.IPAddress.Loopback);
                san.AddDnsName("localhost");
                request.CertificateExtensions.Add(san.Build());
            }
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(server ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
            using var cert = request.Create(ca, now.AddDays(-1), now.AddDays(1), RandomNumberGenerator.GetBytes(8));
            File.WriteAllText(Path.Combine(dir, name + ".pem"), cert.ExportCertificatePem());
            File.WriteAllText(Path.Combine(dir, name + ".key"), key.ExportPkcs8PrivateKeyPem());
        }
        File.WriteAllText(Path.Combine(dir, "ca.pem"), ca.ExportCertificatePem());
        Issue("server", "localhost", server: true);
        Issue("device", "tls-dev", server: false);
        try
        {
            await using var broker = await MosquittoBroker.StartAsync(port =>
            [
                $"listener {port} 127.0.0.1",
                $"cafile {dir}/ca.pem",
                $"certfile {dir}/server.pem",
                $"keyfile {dir}/server.key",
                "require_certificate true",
                "use_identity_as_username true",
            ], tls: true);
            using var bundles = new TestBundles();
            await using var device = new DeviceHarness(broker, bundles, "tls-dev", configure: o =>
            {
                o.Broker = $"mqtts://127.0.0.1:{broker.Port}";
                o.CaFile = Path.Combine(dir, "ca.pem");
                o.ClientCertFile = Path.Combine(dir, "device.pem");
                o.ClientKeyFile = Path.Combine(dir, "device.key");
            });
            await device.StartAsync();
            Assert.True(device.Plane.Connection.IsConnected);

            await using var noCert = new DeviceHarness(broker, bundles, "tls-nocert", configure: o =>
            {
                o.Broker = $"mqtts://127.0.0.1:{broker.Port}";
                o.CaFile = Path.Combine(dir, "ca.pem");
            });
            await Assert.ThrowsAsync<TimeoutException>(() => noCert.StartAsync(TimeSpan.FromSeconds(2)));
            Assert.Contains(noCert.Log.Lines, l => l.Contains("connect to mqtts://127.0.0.1") && l.Contains("failed"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
