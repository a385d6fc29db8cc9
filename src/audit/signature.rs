//! Detached signature files of exports (`FILE.sig` beside `FILE`), and checking them.
//!
//! A signature file is JSON naming the file, its SHA-256, the algorithm, the key id, the base64
//! RSA-PKCS#1-SHA256 signature of the file's exact bytes, and the signing certificate, so that
//! anyone can check it without Sesame, e.g.:
//! `openssl x509 -in cert.pem -pubkey -noout > key.pem; base64 -d sig.b64 > sig.bin;
//! openssl dgst -sha256 -verify key.pem -signature sig.bin FILE`. The embedded certificate only
//! says which key signed; whether that key is Sesame's is decided against trusted certificates.

use aws_lc_rs::digest;
use serde::{Deserialize, Serialize};

use super::signing::{ALGORITHM, Signer, SigningError, TrustedKey, TrustedKeys};

/// The `format` of signature files this version writes and reads.
pub const FORMAT: &str = "sesame-detached-signature/1";

/// The content of a `.sig` file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignatureFile {
    pub format: String,
    /// The signed file's name (informative: a renamed file still verifies).
    pub file: String,
    /// SHA-256 of the signed file, lower-case hex.
    pub sha256: String,
    pub algorithm: String,
    /// SHA-256 of the signing certificate (DER), lower-case hex.
    pub key_id: String,
    /// Base64 signature of the file's bytes.
    pub signature: String,
    /// The signing certificate, PEM.
    pub certificate: String,
}

/// Why an export did not verify.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExportCheckError {
    #[error("not a Sesame signature file: {0}")]
    Malformed(String),
    #[error("the file was changed after signing: its SHA-256 is {actual}, the signature is for {signed}")]
    Changed { actual: String, signed: String },
    #[error("the signature file is inconsistent: its certificate is not key {0}")]
    Inconsistent(String),
    #[error(
        "signed by key {key_id} ({subject}), which is not a trusted Sesame signing key here \
         (give Sesame's signing certificate with --cert)"
    )]
    Untrusted { key_id: String, subject: String },
    #[error("the signature does not match the file")]
    Invalid,
}

/// SHA-256 of some bytes, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, bytes))
}

impl SignatureFile {
    /// Signs `bytes`, the content of the file `file`.
    pub fn sign(signer: &Signer, file: &str, bytes: &[u8]) -> Result<Self, SigningError> {
        Ok(Self {
            format: FORMAT.into(),
            file: file.into(),
            sha256: sha256_hex(bytes),
            algorithm: ALGORITHM.into(),
            key_id: signer.key_id().into(),
            signature: signer.sign(bytes)?,
            certificate: signer.certificate_pem().into(),
        })
    }

    pub fn parse(text: &str) -> Result<Self, ExportCheckError> {
        let parsed: Self = serde_json::from_str(text).map_err(|e| ExportCheckError::Malformed(e.to_string()))?;
        if parsed.format != FORMAT || parsed.algorithm != ALGORITHM {
            return Err(ExportCheckError::Malformed(format!(
                "format {} with algorithm {} (expected {FORMAT} with {ALGORITHM})",
                parsed.format, parsed.algorithm
            )));
        }
        Ok(parsed)
    }

    /// The file's text: pretty JSON and a final newline.
    pub fn to_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("strings always serialize");
        text.push('\n');
        text
    }

    /// Checks that `bytes` are what a trusted key signed; returns that key.
    pub fn check<'a>(&self, bytes: &[u8], trusted: &'a TrustedKeys) -> Result<&'a TrustedKey, ExportCheckError> {
        let actual = sha256_hex(bytes);
        if actual != self.sha256 {
            return Err(ExportCheckError::Changed { actual, signed: self.sha256.clone() });
        }
        let embedded = TrustedKey::from_pem(&self.certificate, "the signature file's certificate")
            .map_err(|e| ExportCheckError::Malformed(e.to_string()))?;
        if embedded.key_id != self.key_id {
            return Err(ExportCheckError::Inconsistent(self.key_id.clone()));
        }
        let Some(key) = trusted.get(&self.key_id) else {
            return Err(ExportCheckError::Untrusted { key_id: self.key_id.clone(), subject: embedded.subject });
        };
        if key.verifies(bytes, &self.signature) { Ok(key) } else { Err(ExportCheckError::Invalid) }
    }
}
