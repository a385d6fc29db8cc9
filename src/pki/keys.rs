//! Keys Sesame signs and derives with, generated on first start under `<data_dir>/keys/`:
//! the SAML/audit signing key with its self-signed certificate (published in IdP metadata), and
//! the secret behind per-publisher pseudonyms. Production deployments may provide their own files
//! at the same paths; rotation keeps the previous certificate beside the new one.

use std::path::{Path, PathBuf};

use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, PKCS_RSA_SHA256};

use super::{PkiError, files};

/// Paths of the key material inside the data folder.
pub struct KeyPaths {
    pub signing_key: PathBuf,
    pub signing_cert: PathBuf,
    pub pseudonym_secret: PathBuf,
}

impl KeyPaths {
    pub fn in_data_dir(data_dir: &Path) -> Self {
        let dir = data_dir.join("keys");
        Self {
            signing_key: dir.join("signing.key"),
            signing_cert: dir.join("signing.pem"),
            pseudonym_secret: dir.join("pseudonym.secret"),
        }
    }
}

/// The loaded key material.
pub struct KeyMaterial {
    pub signing_key_pem: String,
    pub signing_cert_pem: String,
    /// 32 random bytes, hex-encoded on disk.
    pub pseudonym_secret: Vec<u8>,
}

impl KeyMaterial {
    /// Loads the keys, generating whichever is missing.
    pub fn load_or_create(paths: &KeyPaths) -> Result<Self, PkiError> {
        if !(paths.signing_key.is_file() && paths.signing_cert.is_file()) {
            // RSA-SHA256 is what every SAML service provider accepts (see RUST-STACK §5).
            let key = KeyPair::generate_for(&PKCS_RSA_SHA256)?;
            let mut params = CertificateParams::default();
            let mut dn = DistinguishedName::new();
            dn.push(DnType::CommonName, "Sesame signing key");
            dn.push(DnType::OrganizationName, "Sesame");
            params.distinguished_name = dn;
            let now = time::OffsetDateTime::now_utc();
            params.not_before = now - time::Duration::days(1);
            params.not_after = now + time::Duration::days(3 * 365);
            files::write(&paths.signing_cert, &params.self_signed(&key)?.pem(), false)?;
            files::write(&paths.signing_key, &key.serialize_pem(), true)?;
        }
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
            signing_key_pem: files::read(&paths.signing_key)?,
            signing_cert_pem: files::read(&paths.signing_cert)?,
            pseudonym_secret,
        })
    }
}
