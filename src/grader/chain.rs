//! Verifies an X509-SVID chain against the server's current trust bundle.

use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::pem::Pem;

/// Why a chain does not verify.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChainError {
    /// A PEM block did not parse as a certificate.
    #[error("{what} does not parse as X.509")]
    Parse {
        /// Which input.
        what: &'static str,
    },
    /// The chain or the bundle is empty.
    #[error("{0} is empty")]
    Empty(&'static str),
    /// A certificate is outside its validity window.
    #[error("certificate {serial} is not valid now (valid {not_before} to {not_after})")]
    Expired {
        /// Its serial.
        serial: String,
        /// Start of validity.
        not_before: String,
        /// End of validity.
        not_after: String,
    },
    /// A certificate is not signed by the next one in the chain.
    #[error("certificate {serial} is not signed by the next certificate in the chain")]
    BrokenLink {
        /// Its serial.
        serial: String,
    },
    /// No bundle root signed the last certificate of the chain.
    #[error("no root in the server's bundle signed certificate {serial} (issuer {issuer})")]
    UntrustedRoot {
        /// The last certificate's serial.
        serial: String,
        /// Its issuer's name.
        issuer: String,
    },
}

/// Checks that `chain` (leaf first) is valid at `now` and chains to a root in `bundle`.
/// Returns the number of certificates checked, including the root.
pub fn verify(chain: &[String], bundle: &str, now: OffsetDateTime) -> Result<usize, ChainError> {
    let chain_pems = pems(chain.join("\n").as_bytes());
    let root_pems = pems(bundle.as_bytes());
    let chain = parse_all(&chain_pems, "the SVID chain")?;
    let roots = parse_all(&root_pems, "the trust bundle")?;
    let (last, links) = chain
        .split_last()
        .ok_or(ChainError::Empty("the SVID chain"))?;
    if roots.is_empty() {
        return Err(ChainError::Empty("the trust bundle"));
    }
    for (index, cert) in chain.iter().enumerate() {
        check_validity(cert, now)?;
        if index < links.len()
            && cert
                .verify_signature(Some(chain[index + 1].public_key()))
                .is_err()
        {
            return Err(ChainError::BrokenLink {
                serial: serial(cert),
            });
        }
    }
    let signed_by_root = |root: &&X509Certificate<'_>| {
        check_validity(root, now).is_ok() && last.verify_signature(Some(root.public_key())).is_ok()
    };
    match roots.iter().find(signed_by_root) {
        Some(_) => Ok(chain.len() + 1),
        None => Err(ChainError::UntrustedRoot {
            serial: serial(last),
            issuer: last.issuer().to_string(),
        }),
    }
}

fn pems(bytes: &[u8]) -> Vec<Pem> {
    Pem::iter_from_buffer(bytes)
        .filter_map(Result::ok)
        .collect()
}

fn parse_all<'a>(
    pems: &'a [Pem],
    what: &'static str,
) -> Result<Vec<X509Certificate<'a>>, ChainError> {
    pems.iter()
        .map(|pem| pem.parse_x509().map_err(|_| ChainError::Parse { what }))
        .collect()
}

fn check_validity(cert: &X509Certificate<'_>, now: OffsetDateTime) -> Result<(), ChainError> {
    let validity = cert.validity();
    let (not_before, not_after) = (
        validity.not_before.to_datetime(),
        validity.not_after.to_datetime(),
    );
    if now < not_before || now > not_after {
        return Err(ChainError::Expired {
            serial: serial(cert),
            not_before: not_before.to_string(),
            not_after: not_after.to_string(),
        });
    }
    Ok(())
}

fn serial(cert: &X509Certificate<'_>) -> String {
    crate::probe::svid::serial_hex(&cert.tbs_certificate.serial)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, SanType};

    fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
    }

    fn leaf(issuer: &CertifiedIssuer<'static, KeyPair>) -> String {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        let uri = "spiffe://lab.test/workload-1".try_into().unwrap();
        params.subject_alt_names = vec![SanType::URI(uri)];
        params.not_after = OffsetDateTime::now_utc() + time::Duration::hours(1);
        params
            .signed_by(&KeyPair::generate().unwrap(), issuer)
            .unwrap()
            .pem()
    }

    #[test]
    fn leaf_signed_by_a_bundle_root_verifies() {
        let root = ca("root");
        let bundle = format!("{}{}", ca("old root").pem(), root.pem());
        let checked = verify(&[leaf(&root)], &bundle, OffsetDateTime::now_utc()).unwrap();
        assert_eq!(checked, 2);
    }

    #[test]
    fn leaf_from_another_ca_is_untrusted() {
        let error = verify(
            &[leaf(&ca("other"))],
            &ca("root").pem(),
            OffsetDateTime::now_utc(),
        );
        assert!(
            matches!(error, Err(ChainError::UntrustedRoot { .. })),
            "{error:?}"
        );
    }

    #[test]
    fn expired_leaf_is_rejected() {
        let root = ca("root");
        let later = OffsetDateTime::now_utc() + time::Duration::hours(2);
        let error = verify(&[leaf(&root)], &root.pem(), later);
        assert!(
            matches!(error, Err(ChainError::Expired { .. })),
            "{error:?}"
        );
    }
}
