using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace EdgeAgent.Daemon.Mqtt;

/// <summary>
/// Broker certificates checked against the configured CA only (a private fleet CA is the common case), with the
/// host name check the TLS stack already did kept.
/// </summary>
internal static class TlsTrust
{
    public static bool ValidateAgainst(X509Certificate2Collection trusted, X509Certificate? presented, X509Chain? presentedChain, SslPolicyErrors errors)
    {
        if (presented is null) return false;
        if ((errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trusted);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presentedChain is not null)
            foreach (var element in presentedChain.ChainElements)
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
        return chain.Build(presented as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(presented.GetRawCertData()));
    }
}
