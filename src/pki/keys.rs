//! Keys Sesame signs and derives with, generated on first start under `<data_dir>/keys/`:
//! the SAML/audit signing keys with their self-signed certificates (published in metadata), and
//! the secret behind per-publisher pseudonyms. Production deployments may provide their own files
//! at the same paths.
//!
//! Two signing keys: RSA-2048 (`signing.key`/`signing.pem`), which every SAML service provider
//! accepts, and ECDSA P-256 (`signing-ec.key`/`signing-ec.pem`) for the providers that opt in.
//!
//! Rotation, per key: put the new certificate (and key) at `signing.next.pem`/`.key` (or
//! `signing-ec.next.…`); metadata then publishes it beside the current one while Sesame keeps
//! signing with the current key. Once partners have refreshed their metadata, move the current
//! certificate to `signing.previous.pem`, the next pair to `signing.pem`/`.key`, and restart the
//! nodes: the previous certificate stays published until it is deleted. At most one `next` and one
//! `previous` certificate per key, so metadata lists two certificates per algorithm in a rotation.

use std::path::{Path, PathBuf};

use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, PKCS_ECDSA_P256_SHA256, PKCS_RSA_SHA256};

use super::{PkiError, files};

/// The files of one signing key and its rotation slots.
pub struct SigningKeyPaths {
    pub key: PathBuf,
    pub cert: PathBuf,
    /// A staged certificate, published before it is used.
    pub next_cert: PathBuf,
    /// A retired certificate, published until it is deleted.
    pub previous_cert: PathBuf,
}

impl SigningKeyPaths {
    fn in_dir(dir: &Path, stem: &str) -> Self {
        Self {
            key: dir.join(format!("{stem}.key")),
            cert: dir.join(format!("{stem}.pem")),
            next_cert: dir.join(format!("{stem}.next.pem")),
            previous_cert: dir.join(format!("{stem}.previous.pem")),
        }
    }
}

/// Paths of the key material inside the data folder.
pub struct KeyPaths {
    /// The RSA key and certificate, as `rsa.key` and `rsa.cert`.
    pub signing_key: PathBuf,
    pub signing_cert: PathBuf,
    pub rsa: SigningKeyPaths,
    pub ec: SigningKeyPaths,
    pub pseudonym_secret: PathBuf,
}

impl KeyPaths {
    pub fn in_data_dir(data_dir: &Path) -> Self {
        let dir = data_dir.join("keys");
        let rsa = SigningKeyPaths::in_dir(&dir, "signing");
        Self {
            signing_key: rsa.key.clone(),
            signing_cert: rsa.cert.clone(),
            rsa,
            ec: SigningKeyPaths::in_dir(&dir, "signing-ec"),
            pseudonym_secret: dir.join("pseudonym.secret"),
        }
    }
}

/// The loaded key material.
pub struct KeyMaterial {
    /// RSA signing key (PKCS#8 PEM) and its certificate.
    pub signing_key_pem: String,
    pub signing_cert_pem: String,
    /// ECDSA P-256 signing key (PKCS#8 PEM) and its certificate.
    pub ec_signing_key_pem: String,
    pub ec_signing_cert_pem: String,
    /// Next and previous RSA certificates present during a rotation, published with the current one.
    pub rsa_rotation_certs: Vec<String>,
    /// The same for the ECDSA key.
    pub ec_rotation_certs: Vec<String>,
    /// 32 random bytes, hex-encoded on disk.
    pub pseudonym_secret: Vec<u8>,
}

impl KeyMaterial {
    /// Loads the keys, generating whichever is missing.
    pub fn load_or_create(paths: &KeyPaths) -> Result<Self, PkiError> {
        // RSA-SHA256 is what every SAML service provider accepts (see RUST-STACK §5).
        generate_if_missing(&paths.rsa, &PKCS_RSA_SHA256, "Sesame signing key")?;
        generate_if_missing(&paths.ec, &PKCS_ECDSA_P256_SHA256, "Sesame signing key (ECDSA)")?;
        if !paths.pseudonym_secret.is_file() {
            let mut secret = [0u8; 32];
            aws_lc_rs::rand::fill(&mut secret).map_err(|_| PkiError::Random)?;
            files::write(&paths.pseudonym_secret, &hex::encode(secret), true)?;
        }
        let pseudonym_secret = hex::decode(files::read(&paths.pseudonym_secret)?.trim())
            .ok()
            .filter(|secret| secret.len() >= 32)
            .ok_or_else(|| PkiError::Parse {
                path: paths.pseudonym_secret.clone(),
                reason: "expected at least 32 hex-encoded bytes".into(),
            })?;
        Ok(Self {
            signing_key_pem: files::read(&paths.rsa.key)?,
            signing_cert_pem: files::read(&paths.rsa.cert)?,
            ec_signing_key_pem: files::read(&paths.ec.key)?,
            ec_signing_cert_pem: files::read(&paths.ec.cert)?,
            rsa_rotation_certs: rotation_certs(&paths.rsa)?,
            ec_rotation_certs: rotation_certs(&paths.ec)?,
            pseudonym_secret,
        })
    }
}

fn generate_if_missing(
    paths: &SigningKeyPaths,
    algorithm: &'static rcgen::SignatureAlgorithm,
    common_name: &str,
) -> Result<(), PkiError> {
    if paths.key.is_file() && paths.cert.is_file() {
        return Ok(());
    }
    let key = KeyPair::generate_for(algorithm)?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn.push(DnType::OrganizationName, "Sesame");
    params.distinguished_name = dn;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(3 * 365);
    files::write(&paths.cert, &params.self_signed(&key)?.pem(), false)?;
    files::write(&paths.key, &key.serialize_pem(), true)
}

fn rotation_certs(paths: &SigningKeyPaths) -> Result<Vec<String>, PkiError> {
    [&paths.next_cert, &paths.previous_cert]
        .into_iter()
        .filter(|path| path.is_file())
        .map(|path| files::read(path))
        .collect()
}
