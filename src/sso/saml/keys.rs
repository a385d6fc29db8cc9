//! The keys Sesame signs SAML messages with, parsed once at start from the key files
//! (`pki::KeyMaterial`), and the certificates its metadata publishes for each.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;

use super::cert::Certificate;
use super::ns;
use crate::pki::KeyMaterial;

/// How Sesame signs for one service provider: `service_providers.signature_algorithm`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// RSA PKCS#1 v1.5 with SHA-256: the default, accepted by every SAML stack.
    RsaSha256,
    /// ECDSA P-256 with SHA-256 (XML-DSig r‖s form), for providers that opt in.
    EcdsaSha256,
}

impl SignatureAlgorithm {
    pub const ALL: [Self; 2] = [Self::RsaSha256, Self::EcdsaSha256];

    /// The XML-DSig `SignatureMethod` URI.
    pub fn uri(self) -> &'static str {
        match self {
            Self::RsaSha256 => ns::RSA_SHA256,
            Self::EcdsaSha256 => ns::ECDSA_SHA256,
        }
    }

    /// The code stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            Self::RsaSha256 => "rsa-sha256",
            Self::EcdsaSha256 => "ecdsa-sha256",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.code() == code)
    }

    pub fn from_uri(uri: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.uri() == uri)
    }
}

/// A key file that cannot be used for signing.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the {what} is not a PKCS#8 PEM private key")]
    Pem { what: &'static str },
    #[error("the {what} was rejected: {reason}")]
    Rejected { what: &'static str, reason: String },
    #[error("the {what} certificate is unusable: {source}")]
    Certificate { what: &'static str, source: super::cert::CertificateError },
}

/// Signing failed inside the crypto library (never expected with a key that loaded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the signing operation failed")]
pub struct SigningFailed;

enum KeyPair {
    Rsa(RsaKeyPair),
    Ecdsa(EcdsaKeyPair),
}

/// One private key with the certificate sent in `KeyInfo`.
pub struct SigningKey {
    pair: KeyPair,
    certificate: Certificate,
    certificate_base64: String,
}

impl SigningKey {
    fn load(key_pem: &str, cert_pem: &str, algorithm: SignatureAlgorithm) -> Result<Self, KeyError> {
        let what = algorithm.code();
        let der = match PrivateKeyDer::from_pem_slice(key_pem.as_bytes()) {
            Ok(PrivateKeyDer::Pkcs8(der)) => der,
            _ => return Err(KeyError::Pem { what }),
        };
        let rejected = |e: aws_lc_rs::error::KeyRejected| KeyError::Rejected { what, reason: e.to_string() };
        let pair = match algorithm {
            SignatureAlgorithm::RsaSha256 => {
                KeyPair::Rsa(RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).map_err(rejected)?)
            }
            SignatureAlgorithm::EcdsaSha256 => KeyPair::Ecdsa(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der.secret_pkcs8_der()).map_err(rejected)?,
            ),
        };
        let certificate = Certificate::list_from_pem(cert_pem)
            .map_err(|source| KeyError::Certificate { what, source })?
            .swap_remove(0);
        Ok(Self { pair, certificate_base64: certificate.to_base64(), certificate })
    }

    pub fn algorithm(&self) -> SignatureAlgorithm {
        match self.pair {
            KeyPair::Rsa(_) => SignatureAlgorithm::RsaSha256,
            KeyPair::Ecdsa(_) => SignatureAlgorithm::EcdsaSha256,
        }
    }

    /// The raw signature value: PKCS#1 v1.5 for RSA, r‖s (64 bytes) for ECDSA P-256.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SigningFailed> {
        let rng = SystemRandom::new();
        match &self.pair {
            KeyPair::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &rng, message, &mut signature).map_err(|_| SigningFailed)?;
                Ok(signature)
            }
            KeyPair::Ecdsa(pair) => Ok(pair.sign(&rng, message).map_err(|_| SigningFailed)?.as_ref().to_vec()),
        }
    }

    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// Base64 DER of the certificate, for `<ds:X509Certificate>`.
    pub fn certificate_base64(&self) -> &str {
        &self.certificate_base64
    }
}

/// Sesame's signing keys and the certificates published for them.
pub struct SigningKeys {
    rsa: SigningKey,
    ecdsa: SigningKey,
    rsa_published: Vec<Certificate>,
    ecdsa_published: Vec<Certificate>,
}

impl SigningKeys {
    /// Parses the key files; a key that does not load stops Sesame at start, not at first sign-on.
    pub fn from_material(material: &KeyMaterial) -> Result<Self, KeyError> {
        let rsa =
            SigningKey::load(&material.signing_key_pem, &material.signing_cert_pem, SignatureAlgorithm::RsaSha256)?;
        let ecdsa = SigningKey::load(
            &material.ec_signing_key_pem,
            &material.ec_signing_cert_pem,
            SignatureAlgorithm::EcdsaSha256,
        )?;
        let published = |current: &SigningKey, rotation: &[String], what| -> Result<Vec<Certificate>, KeyError> {
            let mut certs = vec![current.certificate.clone()];
            for pem in rotation {
                for cert in Certificate::list_from_pem(pem).map_err(|source| KeyError::Certificate { what, source })? {
                    if !certs.contains(&cert) {
                        certs.push(cert);
                    }
                }
            }
            Ok(certs)
        };
        Ok(Self {
            rsa_published: published(&rsa, &material.rsa_rotation_certs, "rsa-sha256 rotation")?,
            ecdsa_published: published(&ecdsa, &material.ec_rotation_certs, "ecdsa-sha256 rotation")?,
            rsa,
            ecdsa,
        })
    }

    /// The key in use for an algorithm.
    pub fn key(&self, algorithm: SignatureAlgorithm) -> &SigningKey {
        match algorithm {
            SignatureAlgorithm::RsaSha256 => &self.rsa,
            SignatureAlgorithm::EcdsaSha256 => &self.ecdsa,
        }
    }

    /// The certificates metadata publishes for an algorithm: the one in use first, then the
    /// staged or retired ones of a rotation.
    pub fn published(&self, algorithm: SignatureAlgorithm) -> &[Certificate] {
        match algorithm {
            SignatureAlgorithm::RsaSha256 => &self.rsa_published,
            SignatureAlgorithm::EcdsaSha256 => &self.ecdsa_published,
        }
    }
}
