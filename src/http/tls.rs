//! rustls server configurations for the two listeners.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::StartError;

/// Files the listeners' TLS is built from.
pub struct TlsFiles<'a> {
    pub cert: &'a Path,
    pub key: &'a Path,
    pub client_cas: &'a [PathBuf],
}

/// Installs aws-lc-rs as the process-wide rustls provider (idempotent).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// Server authentication only: browsers never present a certificate.
pub fn public_config(files: &TlsFiles) -> Result<ServerConfig, StartError> {
    let mut config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs(files.cert)?, key(files.key)?)
        .map_err(|e| StartError::Tls(format!("{}: {e}", files.cert.display())))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// A client certificate chaining to one of the configured CAs is required to complete the
/// handshake; which caller it belongs to is decided per request (see `caller`).
pub fn mtls_config(files: &TlsFiles) -> Result<ServerConfig, StartError> {
    let mut roots = RootCertStore::empty();
    for path in files.client_cas {
        for cert in certs(path)? {
            roots.add(cert).map_err(|e| StartError::Tls(format!("{}: {e}", path.display())))?;
        }
    }
    let verifier = WebPkiClientVerifier::builder(Arc::new(roots))
        .build()
        .map_err(|e| StartError::Tls(format!("client CA: {e}")))?;
    let mut config = ServerConfig::builder()
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs(files.cert)?, key(files.key)?)
        .map_err(|e| StartError::Tls(format!("{}: {e}", files.cert.display())))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, StartError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|e| StartError::Tls(format!("{}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(StartError::Tls(format!("{}: no certificate found", path.display())));
    }
    Ok(certs)
}

fn key(path: &Path) -> Result<PrivateKeyDer<'static>, StartError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| StartError::Tls(format!("{}: {e}", path.display())))
}
