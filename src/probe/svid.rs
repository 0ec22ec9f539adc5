//! What the probe and the grader need to know about an X509-SVID.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use x509_parser::num_bigint::BigUint;
use x509_parser::prelude::{FromDer, X509Certificate};

/// The facts of an SVID that identify it and bound its life.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SvidSummary {
    /// The SPIFFE ID in its URI SAN.
    pub spiffe_id: String,
    /// The leaf certificate's serial number, lowercase hex with two digits a byte (as
    /// `openssl x509 -serial` prints it, in lower case).
    pub serial: String,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
}

/// A leaf certificate that is not a usable X509-SVID.
#[derive(Debug, thiserror::Error)]
pub enum SvidError {
    /// The DER did not parse.
    #[error("certificate does not parse")]
    Parse(#[source] x509_parser::nom::Err<x509_parser::error::X509Error>),
    /// No `spiffe://` URI SAN.
    #[error("certificate has no SPIFFE ID")]
    NoSpiffeId,
}

impl SvidSummary {
    /// Reads the summary from a leaf certificate in DER.
    pub fn from_leaf_der(der: &[u8]) -> Result<Self, SvidError> {
        let (_, cert) = X509Certificate::from_der(der).map_err(SvidError::Parse)?;
        let validity = cert.validity();
        Ok(SvidSummary {
            spiffe_id: spiffe_id(&cert).ok_or(SvidError::NoSpiffeId)?,
            serial: serial_hex(&cert.tbs_certificate.serial),
            not_before: validity.not_before.to_datetime(),
            not_after: validity.not_after.to_datetime(),
        })
    }
}

/// A certificate serial as lowercase hex, two digits a byte, so every serial spirelab
/// shows reads the same whether it came from a certificate or from SPIRE's CLI.
pub fn serial_hex(serial: &BigUint) -> String {
    serial
        .to_bytes_be()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A serial in the decimal form SPIRE's CLI prints (`x509svid_serial_number`), as
/// [`serial_hex`] shows it; text that is not a decimal number is kept as it is.
pub fn decimal_serial_as_hex(decimal: &str) -> String {
    BigUint::parse_bytes(decimal.as_bytes(), 10)
        .map(|serial| serial_hex(&serial))
        .unwrap_or_else(|| decimal.to_string())
}

/// The first `spiffe://` URI in the certificate's subject alternative names.
pub fn spiffe_id(cert: &X509Certificate<'_>) -> Option<String> {
    let san = cert.subject_alternative_name().ok().flatten()?;
    san.value.general_names.iter().find_map(|name| match name {
        x509_parser::extensions::GeneralName::URI(uri) if uri.starts_with("spiffe://") => {
            Some(uri.to_string())
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_keep_a_leading_zero_nibble() {
        let serial = BigUint::from_bytes_be(&[0x0e, 0xb1, 0x05]);
        assert_eq!(serial_hex(&serial), "0eb105");
    }

    #[test]
    fn decimal_serials_from_spire_read_as_hex() {
        assert_eq!(decimal_serial_as_hex("962821"), "0eb105");
        assert_eq!(decimal_serial_as_hex("not a number"), "not a number");
    }
}
