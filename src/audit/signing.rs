//! Sesame's signatures over audit checkpoints and exports: RSA PKCS#1 v1.5 with SHA-256, made with
//! the signing key in `<data_dir>/keys/` and named by a key id, the SHA-256 of the certificate
//! (DER). Verification looks the key id up among trusted certificates, read from files only: the
//! current one, those kept in `<data_dir>/keys/previous/` after a rotation, and
//! `audit.trusted_certificates`. The database never decides which keys are trusted, since whoever
//! could rewrite it could then sign their own checkpoints.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::config::Config;
use crate::pki::{CertificateInfo, KeyMaterial, KeyPaths};

/// The signature algorithm, as named in signature files.
pub const ALGORITHM: &str = "RSA-PKCS1-SHA256";

/// OID of rsaEncryption, the only key type Sesame signs with.
const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("the signing key is not a usable RSA PKCS#8 key: {0}")]
    Key(String),
    #[error("{origin}: not a usable RSA certificate: {reason}")]
    Certificate { origin: String, reason: String },
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("signing failed")]
    Sign,
}

/// Signs with the current key.
pub struct Signer {
    key: RsaKeyPair,
    key_id: String,
    certificate_pem: String,
    rng: SystemRandom,
}

impl Signer {
    pub fn new(keys: &KeyMaterial) -> Result<Self, SigningError> {
        let der = PrivatePkcs8KeyDer::from_pem_slice(keys.signing_key_pem.as_bytes())
            .map_err(|e| SigningError::Key(e.to_string()))?;
        let key = RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).map_err(|e| SigningError::Key(e.to_string()))?;
        let certificate = TrustedKey::from_pem(&keys.signing_cert_pem, "the signing certificate")?;
        if certificate.public_key != key.public_key().as_ref() {
            return Err(SigningError::Key("the signing certificate does not match the signing key".into()));
        }
        Ok(Self {
            key,
            key_id: certificate.key_id,
            certificate_pem: keys.signing_cert_pem.clone(),
            rng: SystemRandom::new(),
        })
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// The base64 signature of `message`.
    pub fn sign(&self, message: &[u8]) -> Result<String, SigningError> {
        let mut signature = vec![0; self.key.public_modulus_len()];
        self.key.sign(&RSA_PKCS1_SHA256, &self.rng, message, &mut signature).map_err(|_| SigningError::Sign)?;
        Ok(BASE64.encode(signature))
    }
}

/// A certificate whose signatures are accepted.
#[derive(Clone, Debug)]
pub struct TrustedKey {
    pub key_id: String,
    pub subject: String,
    pub certificate_pem: String,
    /// PKCS#1 RSAPublicKey, DER.
    public_key: Vec<u8>,
}

impl TrustedKey {
    /// The first certificate of a PEM text; `origin` names it in errors.
    pub fn from_pem(pem: &str, origin: &str) -> Result<Self, SigningError> {
        let bad = |reason: String| SigningError::Certificate { origin: origin.to_owned(), reason };
        let der = CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|e| bad(e.to_string()))?;
        Self::from_der(&der, origin)
    }

    fn from_der(der: &[u8], origin: &str) -> Result<Self, SigningError> {
        let bad = |reason: String| SigningError::Certificate { origin: origin.to_owned(), reason };
        let (_, cert) = X509Certificate::from_der(der).map_err(|e| bad(e.to_string()))?;
        let spki = cert.public_key();
        if spki.algorithm.algorithm.to_id_string() != RSA_ENCRYPTION {
            return Err(bad("the key is not an RSA key".into()));
        }
        let info = CertificateInfo::from_der(der).map_err(bad)?;
        let certificate_pem = pem_of(der);
        Ok(Self {
            key_id: info.fingerprint,
            subject: info.subject,
            certificate_pem,
            public_key: spki.subject_public_key.data.to_vec(),
        })
    }

    /// Whether `signature` (base64) is this key's signature of `message`.
    pub fn verifies(&self, message: &[u8], signature: &str) -> bool {
        let Ok(signature) = BASE64.decode(signature.trim()) else { return false };
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &self.public_key).verify(message, &signature).is_ok()
    }
}

fn pem_of(der: &[u8]) -> String {
    let body = BASE64.encode(der);
    let lines: Vec<&str> =
        body.as_bytes().chunks(64).map(|chunk| std::str::from_utf8(chunk).expect("base64")).collect();
    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
}

/// Why a signature was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureProblem {
    #[error("signed by key {0}, which is not a trusted Sesame signing key")]
    UnknownKey(String),
    #[error("the signature does not match (the signed data or the signature was changed)")]
    Invalid,
}

/// The certificates whose signatures Sesame accepts, by key id.
#[derive(Clone, Debug, Default)]
pub struct TrustedKeys {
    keys: BTreeMap<String, TrustedKey>,
}

impl TrustedKeys {
    /// The current signing certificate (if generated yet), `<data_dir>/keys/previous/*.pem` and
    /// `audit.trusted_certificates`. Never creates key material.
    pub fn load(config: &Config) -> Result<Self, SigningError> {
        let mut files = Vec::new();
        let current = KeyPaths::in_data_dir(&config.data_dir).signing_cert;
        if current.is_file() {
            files.push(current);
        }
        let previous = previous_dir(&config.data_dir);
        if previous.is_dir() {
            let entries =
                std::fs::read_dir(&previous).map_err(|source| SigningError::Io { path: previous.clone(), source })?;
            let mut pems: Vec<PathBuf> = entries
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|path| path.extension().is_some_and(|ext| ext == "pem"))
                .collect();
            pems.sort();
            files.extend(pems);
        }
        files.extend(config.audit.trusted_certificates.iter().cloned());
        let mut trusted = Self::default();
        for path in files {
            trusted.add_file(&path)?;
        }
        Ok(trusted)
    }

    /// Adds every certificate of a PEM file.
    pub fn add_file(&mut self, path: &Path) -> Result<(), SigningError> {
        let pem = std::fs::read(path).map_err(|source| SigningError::Io { path: path.to_owned(), source })?;
        let origin = path.display().to_string();
        let mut found = false;
        for der in CertificateDer::pem_slice_iter(&pem) {
            let der = der.map_err(|e| SigningError::Certificate { origin: origin.clone(), reason: e.to_string() })?;
            self.add(TrustedKey::from_der(&der, &origin)?);
            found = true;
        }
        if !found {
            return Err(SigningError::Certificate { origin, reason: "no certificate in the file".into() });
        }
        Ok(())
    }

    pub fn add(&mut self, key: TrustedKey) {
        self.keys.insert(key.key_id.clone(), key);
    }

    pub fn get(&self, key_id: &str) -> Option<&TrustedKey> {
        self.keys.get(key_id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &TrustedKey> {
        self.keys.values()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Checks that `signature` is the trusted key `key_id`'s signature of `message`.
    pub fn verify(&self, key_id: &str, message: &[u8], signature: &str) -> Result<&TrustedKey, SignatureProblem> {
        let key = self.get(key_id).ok_or_else(|| SignatureProblem::UnknownKey(key_id.to_owned()))?;
        if key.verifies(message, signature) { Ok(key) } else { Err(SignatureProblem::Invalid) }
    }
}

/// Where certificates of earlier signing keys are kept after a rotation.
pub fn previous_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("keys").join("previous")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> (tempfile::TempDir, KeyMaterial) {
        let dir = tempfile::tempdir().unwrap();
        let keys = KeyMaterial::load_or_create(&KeyPaths::in_data_dir(dir.path())).unwrap();
        (dir, keys)
    }

    #[test]
    fn signatures_verify_with_the_certificate_only() {
        let (_dir, material) = keys();
        let signer = Signer::new(&material).unwrap();
        let signature = signer.sign(b"hello").unwrap();
        let mut trusted = TrustedKeys::default();
        assert_eq!(
            trusted.verify(signer.key_id(), b"hello", &signature).unwrap_err(),
            SignatureProblem::UnknownKey(signer.key_id().into())
        );
        trusted.add(TrustedKey::from_pem(signer.certificate_pem(), "test").unwrap());
        assert!(trusted.verify(signer.key_id(), b"hello", &signature).is_ok());
        assert_eq!(trusted.verify(signer.key_id(), b"hellO", &signature).unwrap_err(), SignatureProblem::Invalid);
        assert_eq!(trusted.verify(signer.key_id(), b"hello", "AAAA").unwrap_err(), SignatureProblem::Invalid);
        // The key id is the certificate's SHA-256, as the mTLS fingerprints are.
        assert_eq!(signer.key_id(), CertificateInfo::from_pem(signer.certificate_pem()).unwrap().fingerprint);
    }

    #[test]
    fn a_mismatched_certificate_is_refused() {
        let (_a, mut first) = keys();
        let (_b, second) = keys();
        first.signing_cert_pem = second.signing_cert_pem;
        assert!(matches!(Signer::new(&first), Err(SigningError::Key(_))));
    }

    #[test]
    fn previous_certificates_stay_trusted() {
        let (dir, material) = keys();
        let old_signer = Signer::new(&material).unwrap();
        let signature = old_signer.sign(b"old").unwrap();
        // Rotation: the old certificate moves to keys/previous/, new keys are generated.
        let paths = KeyPaths::in_data_dir(dir.path());
        std::fs::create_dir_all(previous_dir(dir.path())).unwrap();
        std::fs::rename(&paths.signing_cert, previous_dir(dir.path()).join("2026.pem")).unwrap();
        std::fs::remove_file(&paths.signing_key).unwrap();
        let new_signer = Signer::new(&KeyMaterial::load_or_create(&paths).unwrap()).unwrap();
        assert_ne!(new_signer.key_id(), old_signer.key_id());
        let config = Config { data_dir: dir.path().to_owned(), ..Config::default() };
        let trusted = TrustedKeys::load(&config).unwrap();
        assert_eq!(trusted.iter().count(), 2);
        assert!(trusted.verify(old_signer.key_id(), b"old", &signature).is_ok());
    }
}
