//! Sesame's own key material: a local certificate authority for development TLS and client
//! certificates, and the keys later capabilities sign with. Everything is generated on first
//! start under `<data_dir>` and reused afterwards.

mod authority;
mod files;
mod fingerprint;
mod keys;

pub use authority::{ClientCertificate, LocalAuthority};
pub use fingerprint::CertificateInfo;
pub use keys::{KeyMaterial, KeyPaths, SigningKeyPaths};

use std::path::{Path, PathBuf};

/// Paths of the generated TLS material inside the data folder.
pub struct TlsPaths {
    pub ca_cert: PathBuf,
    pub ca_key: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
}

impl TlsPaths {
    pub fn in_data_dir(data_dir: &Path) -> Self {
        let dir = data_dir.join("tls");
        Self {
            ca_cert: dir.join("ca.pem"),
            ca_key: dir.join("ca.key"),
            server_cert: dir.join("server.pem"),
            server_key: dir.join("server.key"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("cannot read or write {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("the system random generator failed")]
    Random,
    #[error("{path} is not a usable PEM certificate or key: {reason}")]
    Parse { path: PathBuf, reason: String },
}
