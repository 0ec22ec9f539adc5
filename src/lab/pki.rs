//! The x509pop certificates agents attest with: a CA the server trusts and, per agent, a
//! key and a certificate whose common name is the agent's name. They are generated for
//! each `up` and only ever copied into containers.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};

/// One agent's x509pop credentials, PEM-encoded.
#[derive(Debug, Clone)]
pub struct AgentCredentials {
    /// The agent's certificate, signed by the lab's x509pop CA.
    pub cert_pem: String,
    /// The agent's private key.
    pub key_pem: String,
}

/// A lab's x509pop CA.
pub struct X509PopCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl X509PopCa {
    /// Generates a new CA named after the lab.
    pub fn generate(lab: &str) -> Result<Self, rcgen::Error> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(DnType::CommonName, format!("spirelab {lab} x509pop CA"));
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate()?)?;
        Ok(X509PopCa { issuer })
    }

    /// The CA certificate, for the server's `ca_bundle_path`.
    pub fn cert_pem(&self) -> String {
        self.issuer.pem()
    }

    /// Issues credentials for agent `name`; its selector is `x509pop:subject:cn:<name>`.
    pub fn issue(&self, name: &str) -> Result<AgentCredentials, rcgen::Error> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(AgentCredentials {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::pem::parse_x509_pem;

    #[test]
    fn agent_certificate_is_signed_by_the_ca_and_names_the_agent() {
        let ca = X509PopCa::generate("t").unwrap();
        let agent = ca.issue("agent-1").unwrap();
        let (_, ca_pem) = parse_x509_pem(ca.cert_pem().as_bytes()).unwrap();
        let (_, agent_pem) = parse_x509_pem(agent.cert_pem.as_bytes()).unwrap();
        let ca_cert = ca_pem.parse_x509().unwrap();
        let agent_cert = agent_pem.parse_x509().unwrap();
        let cn = agent_cert
            .subject()
            .iter_common_name()
            .next()
            .unwrap()
            .as_str()
            .unwrap();
        assert_eq!(cn, "agent-1");
        assert!(
            agent_cert
                .verify_signature(Some(ca_cert.public_key()))
                .is_ok()
        );
        assert!(
            agent_cert
                .key_usage()
                .unwrap()
                .unwrap()
                .value
                .digital_signature()
        );
    }
}
