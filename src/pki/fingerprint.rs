//! What Sesame records about a certificate to recognise its holder.

use aws_lc_rs::digest;
use chrono::NaiveDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

/// Identity facts of one X.509 certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateInfo {
    /// SHA-256 of the DER encoding, lower-case hex.
    pub fingerprint: String,
    /// Subject distinguished name in RFC 4514 form.
    pub subject: String,
    pub not_after: NaiveDateTime,
}

impl CertificateInfo {
    pub fn from_der(der: &[u8]) -> Result<Self, String> {
        let (_, cert) = X509Certificate::from_der(der).map_err(|e| e.to_string())?;
        let not_after = chrono::DateTime::from_timestamp(cert.validity().not_after.timestamp(), 0)
            .ok_or("certificate expiry out of range")?
            .naive_utc();
        Ok(Self {
            fingerprint: hex::encode(digest::digest(&digest::SHA256, der)),
            subject: cert.subject().to_string(),
            not_after,
        })
    }

    pub fn from_pem(pem: &str) -> Result<Self, String> {
        use rustls_pki_types::pem::PemObject;
        let der = rustls_pki_types::CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|e| e.to_string())?;
        Self::from_der(&der)
    }
}
