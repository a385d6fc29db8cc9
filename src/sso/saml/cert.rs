//! X.509 certificates as SAML carries them: DER in base64 inside metadata and `KeyInfo`, PEM on
//! disk and in the database. A partner's certificates are pinned (compared and used as they are
//! registered), never chain-validated: registered metadata is the trust anchor, as in every SAML
//! federation.

use aws_lc_rs::{digest, signature};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

use super::ns;

/// An X.509 certificate that parsed as one.
#[derive(Clone, PartialEq, Eq)]
pub struct Certificate {
    der: Vec<u8>,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Certificate(sha256:{})", self.fingerprint())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error("no certificate found")]
    Empty,
    #[error("the certificate text is not valid PEM or base64")]
    Encoding,
    #[error("not an X.509 certificate: {0}")]
    X509(String),
}

impl Certificate {
    pub fn from_der(der: Vec<u8>) -> Result<Self, CertificateError> {
        X509Certificate::from_der(&der).map_err(|e| CertificateError::X509(e.to_string()))?;
        Ok(Self { der })
    }

    /// The content of an `<ds:X509Certificate>` element (whitespace allowed).
    pub fn from_base64(text: &str) -> Result<Self, CertificateError> {
        let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        Self::from_der(STANDARD.decode(compact).map_err(|_| CertificateError::Encoding)?)
    }

    /// One or more PEM certificates, as stored in `identity_providers.certificates`.
    pub fn list_from_pem(pem: &str) -> Result<Vec<Self>, CertificateError> {
        let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
            .map(|cert| cert.map_err(|_| CertificateError::Encoding).and_then(|der| Self::from_der(der.to_vec())))
            .collect::<Result<Vec<_>, _>>()?;
        if certs.is_empty() { Err(CertificateError::Empty) } else { Ok(certs) }
    }

    /// PEM text of several certificates, one after the other.
    pub fn list_to_pem(certs: &[Self]) -> String {
        certs.iter().map(Self::to_pem).collect()
    }

    pub fn to_pem(&self) -> String {
        let body = self.to_base64();
        let mut pem = String::with_capacity(body.len() + body.len() / 64 + 60);
        pem.push_str("-----BEGIN CERTIFICATE-----\n");
        for line in body.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
        pem
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// Base64 of the DER, as `<ds:X509Certificate>` holds it.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(&self.der)
    }

    /// SHA-256 of the DER, lower-case hex: how logs and operators name a certificate.
    pub fn fingerprint(&self) -> String {
        hex::encode(digest::digest(&digest::SHA256, &self.der))
    }

    /// Checks a detached signature made with this certificate's key (HTTP-Redirect binding).
    /// `method` is an XML-DSig signature method URI from the accepted list; anything else fails.
    pub fn verifies(&self, method: &str, message: &[u8], signature_value: &[u8]) -> bool {
        let Ok((_, cert)) = X509Certificate::from_der(&self.der) else { return false };
        let Ok(key) = cert.public_key().parsed() else { return false };
        let raw = cert.public_key().subject_public_key.data.as_ref();
        let algorithms: &[&'static dyn signature::VerificationAlgorithm] = match (key, method) {
            (PublicKey::RSA(_), ns::RSA_SHA256) => &[&signature::RSA_PKCS1_2048_8192_SHA256],
            (PublicKey::RSA(_), ns::RSA_SHA384) => &[&signature::RSA_PKCS1_2048_8192_SHA384],
            (PublicKey::RSA(_), ns::RSA_SHA512) => &[&signature::RSA_PKCS1_2048_8192_SHA512],
            // XML-DSig ECDSA values are r‖s (RFC 4051); some SAML stacks send DER, so both are tried.
            (PublicKey::EC(_), ns::ECDSA_SHA256) => {
                &[&signature::ECDSA_P256_SHA256_FIXED, &signature::ECDSA_P256_SHA256_ASN1]
            }
            (PublicKey::EC(_), ns::ECDSA_SHA384) => {
                &[&signature::ECDSA_P384_SHA384_FIXED, &signature::ECDSA_P384_SHA384_ASN1]
            }
            _ => return false,
        };
        algorithms.iter().any(|algorithm| {
            signature::UnparsedPublicKey::new(*algorithm, raw).verify(message, signature_value).is_ok()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed(alg: &'static rcgen::SignatureAlgorithm) -> (rcgen::KeyPair, String) {
        let key = rcgen::KeyPair::generate_for(alg).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["idp.test".into()]).unwrap().self_signed(&key).unwrap();
        (key, cert.pem())
    }

    #[test]
    fn pem_lists_round_trip() {
        let (_, a) = self_signed(&rcgen::PKCS_ECDSA_P256_SHA256);
        let (_, b) = self_signed(&rcgen::PKCS_ECDSA_P256_SHA256);
        let certs = Certificate::list_from_pem(&format!("{a}\n{b}")).unwrap();
        assert_eq!(certs.len(), 2);
        assert_eq!(Certificate::list_from_pem(&Certificate::list_to_pem(&certs)).unwrap(), certs);
        let spaced = certs[0]
            .to_base64()
            .as_bytes()
            .chunks(60)
            .map(|l| std::str::from_utf8(l).unwrap())
            .collect::<Vec<_>>()
            .join("\n  ");
        assert_eq!(Certificate::from_base64(&spaced).unwrap(), certs[0]);
    }

    #[test]
    fn rejects_what_is_not_a_certificate() {
        assert_eq!(Certificate::list_from_pem(""), Err(CertificateError::Empty));
        assert_eq!(Certificate::from_base64("not base64!"), Err(CertificateError::Encoding));
        assert!(matches!(Certificate::from_base64("AAAA"), Err(CertificateError::X509(_))));
    }

    #[test]
    fn verifies_detached_ecdsa_signatures_only_with_the_right_method() {
        let (key, pem) = self_signed(&rcgen::PKCS_ECDSA_P256_SHA256);
        let cert = &Certificate::list_from_pem(&pem).unwrap()[0];
        let signer = aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &key.serialize_der(),
        )
        .unwrap();
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let sig = signer.sign(&rng, b"message").unwrap();
        assert!(cert.verifies(ns::ECDSA_SHA256, b"message", sig.as_ref()));
        assert!(!cert.verifies(ns::ECDSA_SHA256, b"other", sig.as_ref()));
        assert!(!cert.verifies(ns::RSA_SHA256, b"message", sig.as_ref()));
        assert!(!cert.verifies("http://www.w3.org/2000/09/xmldsig#hmac-sha1", b"message", sig.as_ref()));
    }
}
