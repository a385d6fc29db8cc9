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
    #[error("the {what} key is not a PEM private key of that kind (PKCS#8; PKCS#1 for RSA, SEC 1 for EC)")]
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
        let rejected = |e: aws_lc_rs::error::KeyRejected| KeyError::Rejected { what, reason: e.to_string() };
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|_| KeyError::Pem { what })?;
        // Generated keys are PKCS#8; an operator's RSA key may come as PKCS#1, an EC key as SEC 1.
        let p256 = &ECDSA_P256_SHA256_FIXED_SIGNING;
        let pair = match (algorithm, &key) {
            (SignatureAlgorithm::RsaSha256, PrivateKeyDer::Pkcs8(der)) => {
                KeyPair::Rsa(RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).map_err(rejected)?)
            }
            (SignatureAlgorithm::RsaSha256, PrivateKeyDer::Pkcs1(der)) => {
                KeyPair::Rsa(RsaKeyPair::from_der(der.secret_pkcs1_der()).map_err(rejected)?)
            }
            (SignatureAlgorithm::EcdsaSha256, PrivateKeyDer::Pkcs8(der)) => {
                KeyPair::Ecdsa(EcdsaKeyPair::from_pkcs8(p256, der.secret_pkcs8_der()).map_err(rejected)?)
            }
            (SignatureAlgorithm::EcdsaSha256, PrivateKeyDer::Sec1(der)) => {
                KeyPair::Ecdsa(EcdsaKeyPair::from_private_key_der(p256, der.secret_sec1_der()).map_err(rejected)?)
            }
            _ => return Err(KeyError::Pem { what }),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::{KeyMaterial, KeyPaths};

    fn pem(label: &str, der: &[u8]) -> String {
        use base64::Engine;
        let body = base64::engine::general_purpose::STANDARD.encode(der);
        format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n")
    }

    /// The PKCS#1 (or SEC 1) key inside a PKCS#8 one: the content of its privateKey OCTET STRING.
    fn inner_key(pkcs8: &[u8]) -> Vec<u8> {
        let (_, info) = x509_parser::der_parser::parse_der(pkcs8).unwrap();
        info.as_sequence().unwrap()[2].as_slice().unwrap().to_vec()
    }

    #[test]
    fn loads_generated_and_operator_key_formats() {
        let dir = tempfile::tempdir().unwrap();
        let mut material = KeyMaterial::load_or_create(&KeyPaths::in_data_dir(dir.path())).unwrap();
        let keys = SigningKeys::from_material(&material).unwrap();
        for algorithm in SignatureAlgorithm::ALL {
            assert_eq!(keys.key(algorithm).algorithm(), algorithm);
            assert_eq!(keys.published(algorithm).len(), 1);
        }
        let der = |pem_text: &str| PrivateKeyDer::from_pem_slice(pem_text.as_bytes()).unwrap().secret_der().to_vec();
        let rsa_pkcs8 = der(&material.signing_key_pem);
        material.signing_key_pem = pem("RSA PRIVATE KEY", &inner_key(&rsa_pkcs8));
        let ec_pkcs8 = der(&material.ec_signing_key_pem);
        material.ec_signing_key_pem = pem("EC PRIVATE KEY", &inner_key(&ec_pkcs8));
        let reloaded = SigningKeys::from_material(&material).unwrap();
        assert_eq!(
            reloaded.key(SignatureAlgorithm::RsaSha256).sign(b"m").unwrap(),
            keys.key(SignatureAlgorithm::RsaSha256).sign(b"m").unwrap()
        );

        // A key of the other kind in a slot, or no key at all, stops the start.
        material.signing_key_pem = material.ec_signing_key_pem.clone();
        assert!(matches!(SigningKeys::from_material(&material), Err(KeyError::Pem { what: "rsa-sha256" })));
        material.signing_key_pem = "not a key".into();
        assert!(matches!(SigningKeys::from_material(&material), Err(KeyError::Pem { .. })));
    }
}
