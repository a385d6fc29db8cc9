//! The HTTP-Redirect binding (SAML bindings §3.4): the message is DEFLATE-compressed (raw,
//! RFC 1951), base64-encoded and URL-encoded into the query string. A signed message carries
//! `SigAlg` and `Signature` parameters over `SAMLRequest=…&RelayState=…&SigAlg=…` *as received*
//! (re-encoding could differ from the sender's), so the raw query string is what gets verified.
//! Inflating is capped: a deflate bomb stops at the limit.

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use url::form_urlencoded;

use super::cert::Certificate;
use super::keys::{SigningFailed, SigningKey};
use super::ns;

/// Which message the query string carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedirectKind {
    Request,
    Response,
}

impl RedirectKind {
    fn parameter(self) -> &'static str {
        match self {
            Self::Request => "SAMLRequest",
            Self::Response => "SAMLResponse",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectError {
    #[error("the query string has no {0} parameter")]
    Missing(&'static str),
    #[error("the query string repeats the {0} parameter")]
    Repeated(String),
    #[error("the message is not valid base64")]
    Base64,
    #[error("the message is not valid DEFLATE data")]
    Deflate,
    #[error("the message inflates beyond {0} bytes")]
    TooLarge(usize),
    #[error("the message is not UTF-8")]
    NotUtf8,
    #[error("the message is not signed")]
    Unsigned,
    #[error("the signature algorithm {0} is not accepted")]
    AlgorithmNotAllowed(String),
    #[error("the signature does not verify with any registered certificate")]
    BadSignature,
    #[error(transparent)]
    Signing(#[from] SigningFailed),
}

/// The URL that carries `xml` to `destination`, signed when a key is given.
pub fn encode_url(
    destination: &str,
    kind: RedirectKind,
    xml: &str,
    relay_state: Option<&str>,
    signer: Option<&SigningKey>,
) -> Result<String, RedirectError> {
    let mut encoder = DeflateEncoder::new(Vec::with_capacity(xml.len() / 2), Compression::default());
    encoder.write_all(xml.as_bytes()).and_then(|()| encoder.flush()).map_err(|_| RedirectError::Deflate)?;
    let deflated = encoder.finish().map_err(|_| RedirectError::Deflate)?;

    let mut query = format!("{}={}", kind.parameter(), encode(&STANDARD.encode(deflated)));
    if let Some(relay_state) = relay_state {
        query.push_str("&RelayState=");
        query.push_str(&encode(relay_state));
    }
    if let Some(key) = signer {
        query.push_str("&SigAlg=");
        query.push_str(&encode(key.algorithm().uri()));
        let signature = STANDARD.encode(key.sign(query.as_bytes())?);
        query.push_str("&Signature=");
        query.push_str(&encode(&signature));
    }
    let separator = if destination.contains('?') { '&' } else { '?' };
    Ok(format!("{destination}{separator}{query}"))
}

fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// A message received by HTTP-Redirect: inflated, not yet trusted.
#[derive(Clone, Debug)]
pub struct RedirectMessage {
    pub xml: String,
    pub relay_state: Option<String>,
    signature: Option<QuerySignature>,
}

#[derive(Clone, Debug)]
struct QuerySignature {
    algorithm: String,
    value: Vec<u8>,
    signed_octets: String,
}

impl RedirectMessage {
    /// Decodes the raw query string of the request (without the `?`).
    pub fn decode(query: &str, kind: RedirectKind, max_bytes: usize) -> Result<Self, RedirectError> {
        let mut raw: [Option<&str>; 4] = [None; 4];
        const NAMES: [&str; 4] = ["", "RelayState", "SigAlg", "Signature"];
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let name = pair.split('=').next().unwrap_or_default();
            let slot = if name == kind.parameter() {
                Some(0)
            } else {
                NAMES.iter().skip(1).position(|n| *n == name).map(|i| i + 1)
            };
            if let Some(slot) = slot
                && raw[slot].replace(pair).is_some()
            {
                return Err(RedirectError::Repeated(name.to_owned()));
            }
        }
        let [message, relay_state, algorithm, signature] = raw;
        let message = message.ok_or(RedirectError::Missing(kind.parameter()))?;
        let deflated = decode_base64(&value_of(message))?;
        let xml = inflate(&deflated, max_bytes)?;

        let signature = match (algorithm, signature) {
            (Some(algorithm), Some(signature)) => {
                let mut signed_octets = message.to_owned();
                for part in [relay_state, Some(algorithm)].into_iter().flatten() {
                    signed_octets.push('&');
                    signed_octets.push_str(part);
                }
                Some(QuerySignature {
                    algorithm: value_of(algorithm),
                    value: decode_base64(&value_of(signature))?,
                    signed_octets,
                })
            }
            (None, None) => None,
            (None, Some(_)) => return Err(RedirectError::Missing("SigAlg")),
            (Some(_), None) => return Err(RedirectError::Missing("Signature")),
        };
        Ok(Self { xml, relay_state: relay_state.map(value_of), signature })
    }

    pub fn is_signed(&self) -> bool {
        self.signature.is_some()
    }

    /// Checks the query signature with the sender's registered certificates.
    pub fn verify(&self, certificates: &[Certificate]) -> Result<(), RedirectError> {
        let signature = self.signature.as_ref().ok_or(RedirectError::Unsigned)?;
        if !ns::ACCEPTED_SIGNATURE_METHODS.contains(&signature.algorithm.as_str()) {
            return Err(RedirectError::AlgorithmNotAllowed(signature.algorithm.clone()));
        }
        let message = signature.signed_octets.as_bytes();
        if certificates.iter().any(|cert| cert.verifies(&signature.algorithm, message, &signature.value)) {
            Ok(())
        } else {
            Err(RedirectError::BadSignature)
        }
    }
}

/// The decoded value of a raw `name=value` pair.
fn value_of(pair: &str) -> String {
    let raw = pair.split_once('=').map(|(_, value)| value).unwrap_or_default();
    form_urlencoded::parse(format!("v={raw}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

fn decode_base64(text: &str) -> Result<Vec<u8>, RedirectError> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD.decode(compact).map_err(|_| RedirectError::Base64)
}

fn inflate(deflated: &[u8], max_bytes: usize) -> Result<String, RedirectError> {
    let mut xml = Vec::new();
    DeflateDecoder::new(deflated)
        .take(max_bytes as u64 + 1)
        .read_to_end(&mut xml)
        .map_err(|_| RedirectError::Deflate)?;
    if xml.len() > max_bytes {
        return Err(RedirectError::TooLarge(max_bytes));
    }
    String::from_utf8(xml).map_err(|_| RedirectError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query_of(url: &str) -> &str {
        url.split_once('?').unwrap().1
    }

    #[test]
    fn round_trips_unsigned_messages() {
        let url =
            encode_url("https://idp.test/sso?x=1", RedirectKind::Request, "<a>é</a>", Some("r&1 2"), None).unwrap();
        assert!(url.starts_with("https://idp.test/sso?x=1&SAMLRequest="));
        let message = RedirectMessage::decode(query_of(&url), RedirectKind::Request, 1000).unwrap();
        assert_eq!(message.xml, "<a>é</a>");
        assert_eq!(message.relay_state.as_deref(), Some("r&1 2"));
        assert!(!message.is_signed());
        assert_eq!(message.verify(&[]), Err(RedirectError::Unsigned));
    }

    #[test]
    fn refuses_ambiguous_or_broken_queries() {
        let decode = |q: &str| RedirectMessage::decode(q, RedirectKind::Request, 1000).unwrap_err();
        assert_eq!(decode("RelayState=x"), RedirectError::Missing("SAMLRequest"));
        assert_eq!(decode("SAMLRequest=AA&SAMLRequest=AA"), RedirectError::Repeated("SAMLRequest".into()));
        assert_eq!(decode("SAMLRequest=%%%"), RedirectError::Base64);
        assert_eq!(decode("SAMLRequest=AAAA"), RedirectError::Deflate);
        let url = encode_url("https://i.test/", RedirectKind::Request, "<a/>", None, None).unwrap();
        assert_eq!(decode(&format!("{}&Signature=AA", query_of(&url))), RedirectError::Missing("SigAlg"));
    }

    #[test]
    fn caps_what_a_deflate_bomb_inflates_to() {
        let bomb = format!("<a>{}</a>", " ".repeat(5_000_000));
        let url = encode_url("https://i.test/", RedirectKind::Request, &bomb, None, None).unwrap();
        assert!(url.len() < 20_000, "compresses well: {}", url.len());
        let err = RedirectMessage::decode(query_of(&url), RedirectKind::Request, 100_000).unwrap_err();
        assert_eq!(err, RedirectError::TooLarge(100_000));
    }
}
