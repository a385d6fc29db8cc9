//! Widget tokens: what a browser shows the public listener instead of the ENT's client certificate.
//!
//! The ENT's server asks for one over mutual TLS for one of its users; the browser then sends it as
//! `Authorization: Bearer …` for a few minutes. A token is sealed with AES-256-GCM-SIV under a key
//! derived from Sesame's pseudonym secret, so that:
//! - every node that shares the secret (as they must, for stable pseudonyms) accepts it, with no
//!   state kept anywhere;
//! - it cannot be forged or altered, and it is bound to its ENT project and person;
//! - nothing in it is readable (GARPersonIdentifiant and UAI are encrypted);
//! - a repeated random nonce, however unlikely, leaks nothing beyond equality (the SIV mode).

use aws_lc_rs::aead::{AES_256_GCM_SIV, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::{hmac, rand};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::domain::Uai;

/// Prefix naming the format, so that a future format can be told apart.
const PREFIX: &str = "v1.";
/// Key-derivation label and additional authenticated data.
const LABEL: &[u8] = b"sesame/mediacentre/widget-token/v1";

/// Who a token speaks for, and until when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetClaims {
    /// ENT project (idENT).
    #[serde(rename = "e")]
    pub ent_id: String,
    /// GARPersonIdentifiant.
    #[serde(rename = "p")]
    pub gar_id: String,
    /// One school only, or every school of the person when absent.
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    pub uai: Option<Uai>,
    /// Expiry, Unix seconds.
    #[serde(rename = "x")]
    pub expires_at: i64,
}

/// Why a token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed or was not issued by Sesame")]
    Invalid,
    #[error("the token has expired")]
    Expired,
}

/// Seals and opens widget tokens.
pub struct TokenKey(LessSafeKey);

impl TokenKey {
    /// Derives the token key from the pseudonym secret (HMAC-SHA256 with a dedicated label).
    pub fn derive(pseudonym_secret: &[u8]) -> Self {
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, pseudonym_secret), LABEL);
        let key = UnboundKey::new(&AES_256_GCM_SIV, tag.as_ref()).expect("HMAC-SHA256 gives a 32-byte key");
        Self(LessSafeKey::new(key))
    }

    /// The bearer token for `claims`.
    pub fn seal(&self, claims: &WidgetClaims) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce).expect("the system random source works");
        let mut sealed = serde_json::to_vec(claims).expect("claims always serialize");
        self.0
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(LABEL), &mut sealed)
            .expect("sealing a short message cannot fail");
        let mut bytes = nonce.to_vec();
        bytes.append(&mut sealed);
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The claims of a token this key sealed, if it has not expired at `now` (Unix seconds).
    pub fn open(&self, token: &str, now: i64) -> Result<WidgetClaims, TokenError> {
        let encoded = token.strip_prefix(PREFIX).ok_or(TokenError::Invalid)?;
        let mut bytes = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| TokenError::Invalid)?;
        if bytes.len() <= NONCE_LEN {
            return Err(TokenError::Invalid);
        }
        let mut sealed = bytes.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&bytes).map_err(|_| TokenError::Invalid)?;
        let plain = self.0.open_in_place(nonce, Aad::from(LABEL), &mut sealed).map_err(|_| TokenError::Invalid)?;
        let claims: WidgetClaims = serde_json::from_slice(plain).map_err(|_| TokenError::Invalid)?;
        if claims.expires_at < now {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> WidgetClaims {
        WidgetClaims {
            ent_id: "Z0".into(),
            gar_id: "z0-elv-0001".into(),
            uai: Some(Uai::parse("0990001N").unwrap()),
            expires_at: 1_000,
        }
    }

    #[test]
    fn round_trips_and_hides_its_content() {
        let key = TokenKey::derive(&[7u8; 32]);
        let token = key.seal(&claims());
        assert_eq!(key.open(&token, 999).unwrap(), claims());
        assert_eq!(key.open(&token, 1_000).unwrap(), claims());
        let decoded = URL_SAFE_NO_PAD.decode(&token[PREFIX.len()..]).unwrap();
        let text = String::from_utf8_lossy(&decoded);
        assert!(!text.contains("z0-elv") && !text.contains("0990001N"), "claims are not readable");
        assert_ne!(token, key.seal(&claims()), "a fresh nonce per token");
    }

    #[test]
    fn refuses_expired_forged_altered_and_foreign_tokens() {
        let key = TokenKey::derive(&[7u8; 32]);
        let token = key.seal(&claims());
        assert_eq!(key.open(&token, 1_001), Err(TokenError::Expired));
        assert_eq!(TokenKey::derive(&[8u8; 32]).open(&token, 0), Err(TokenError::Invalid));
        let mut bytes = URL_SAFE_NO_PAD.decode(&token[PREFIX.len()..]).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let altered = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
        assert_eq!(key.open(&altered, 0), Err(TokenError::Invalid));
        for junk in ["", "v1.", "v1.AAAA", "v2.xyz", &token[PREFIX.len()..]] {
            assert_eq!(key.open(junk, 0), Err(TokenError::Invalid), "{junk:?}");
        }
    }
}
