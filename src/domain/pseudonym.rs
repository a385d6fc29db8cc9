//! Pseudonyms derived from Sesame's secret: the per-publisher user id `IDO` sent in assertions,
//! and the person reference written in audit events.
//!
//! Keyed hashes, so nobody without the secret can link a pseudonym to a GARPersonIdentifiant or
//! two publishers' pseudonyms to each other. Fields are length-prefixed so that no two different
//! inputs hash the same bytes, and each use has its own label.

use aws_lc_rs::hmac;

/// Derives pseudonyms from the secret in `<data_dir>/keys/pseudonym.secret` (or the configured file).
pub struct Pseudonyms {
    key_sha512: hmac::Key,
    key_sha256: hmac::Key,
}

impl Pseudonyms {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key_sha512: hmac::Key::new(hmac::HMAC_SHA512, secret),
            key_sha256: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
    }

    /// `IDO`: 128 hex characters like the GAR's. The same for a user in every school of their ENT
    /// project, different for each publisher.
    pub fn ido(&self, ent_id: &str, gar_id: &str, publisher_id: &str) -> String {
        hex::encode(hmac::sign(&self.key_sha512, &message("IDO", &[ent_id, gar_id, publisher_id])))
    }

    /// The `subject` of audit events about a person: stable across re-imports, computable for a
    /// data-subject request from the ENT project and GARPersonIdentifiant, meaningless without the secret.
    pub fn audit_subject(&self, ent_id: &str, gar_id: &str) -> String {
        let tag = hmac::sign(&self.key_sha256, &message("AUDIT", &[ent_id, gar_id]));
        format!("p-{}", hex::encode(&tag.as_ref()[..16]))
    }
}

fn message(label: &str, fields: &[&str]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(64);
    for field in std::iter::once(&label).chain(fields) {
        let len = u32::try_from(field.len()).expect("identifiers are far shorter than 4 GiB");
        bytes.extend_from_slice(&len.to_be_bytes());
        bytes.extend_from_slice(field.as_bytes());
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ido_is_pairwise_and_stable() {
        let p = Pseudonyms::new(&[7u8; 32]);
        let a = p.ido("Z0", "z0-elv-0001", "999000201_0000000000000000");
        assert_eq!(a.len(), 128);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(a, p.ido("Z0", "z0-elv-0001", "999000201_0000000000000000"));
        assert_ne!(a, p.ido("Z0", "z0-elv-0001", "999000202_0000000000000000"), "per publisher");
        assert_ne!(a, p.ido("Z1", "z0-elv-0001", "999000201_0000000000000000"), "per ENT project");
        assert_ne!(a, Pseudonyms::new(&[8u8; 32]).ido("Z0", "z0-elv-0001", "999000201_0000000000000000"));
        // Length prefixes: moving characters between fields changes the result.
        assert_ne!(p.ido("Z0", "ab", "c"), p.ido("Z0", "a", "bc"));
    }

    #[test]
    fn audit_subject_differs_from_ido() {
        let p = Pseudonyms::new(&[7u8; 32]);
        let subject = p.audit_subject("Z0", "z0-elv-0001");
        assert_eq!(subject.len(), 34);
        assert!(subject.starts_with("p-"));
        assert_ne!(subject, p.audit_subject("Z0", "z0-elv-0002"));
    }
}
