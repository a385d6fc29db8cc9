//! A publisher's AuthnRequest (SP-initiated launch), by HTTP-Redirect or HTTP-POST.
//!
//! The issuer must be a registered service provider. A signed request is verified with its
//! registered certificates (query-string signature for Redirect, enveloped XML signature for
//! POST) and must then name Sesame's SSO URL as `Destination`; an unsigned one is refused when the
//! provider's metadata says it signs. The response always goes to the registered ACS: a request
//! asking for another URL or binding is refused rather than followed (no open redirect).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, TimeDelta, Utc};

use super::super::cert::Certificate;
use super::super::ids::{is_ncname, parse_instant};
use super::super::ns;
use super::super::redirect::{RedirectError, RedirectKind, RedirectMessage};
use super::super::verify::{DsigError, SignatureVerifier};
use super::super::xml_tree::{self, Element, Limits, XmlError};
use crate::store::saml::{ServiceProviderRow, find_service_provider_by_entity_id};
use crate::store::{AnyConnection, StoreError};

/// How the request arrived.
pub enum IncomingBinding<'a> {
    /// The raw query string of `GET <sso>?SAMLRequest=…` (without the `?`).
    Redirect { query: &'a str },
    /// The `SAMLRequest` and `RelayState` form fields of `POST <sso>`.
    Post { saml_request: &'a str, relay_state: Option<&'a str> },
}

/// What the request must satisfy.
pub struct RequestRules<'a> {
    /// Sesame's SSO URL (`Destination`).
    pub sso_url: &'a str,
    pub now: DateTime<Utc>,
    pub clock_skew: TimeDelta,
    pub max_age: TimeDelta,
    pub max_bytes: usize,
}

/// A registered service provider, as request checks need it.
#[derive(Clone, Debug)]
pub struct RegisteredSp {
    pub entity_id: String,
    pub acs_url: String,
    pub certificates: Vec<Certificate>,
    pub requires_signature: bool,
}

impl RegisteredSp {
    pub fn from_row(row: &ServiceProviderRow) -> Result<Self, AuthnRequestError> {
        let certificates = if row.certificates.trim().is_empty() {
            Vec::new()
        } else {
            Certificate::list_from_pem(&row.certificates)
                .map_err(|e| AuthnRequestError::Signature(format!("registered certificates unusable: {e}")))?
        };
        Ok(Self {
            entity_id: row.entity_id.clone(),
            acs_url: row.acs_url.clone(),
            certificates,
            requires_signature: row.authn_requests_signed,
        })
    }
}

/// An accepted request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthnRequest {
    /// The ID the response's `InResponseTo` must carry.
    pub id: String,
    /// The service provider's entity ID.
    pub issuer: String,
    /// The registered ACS the response goes to.
    pub acs_url: String,
    pub force_authn: bool,
    pub is_passive: bool,
    pub relay_state: Option<String>,
    /// Whether a signature was present and verified.
    pub signed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthnRequestError {
    #[error(transparent)]
    Binding(#[from] RedirectError),
    #[error("the SAMLRequest is not base64-encoded UTF-8")]
    Encoding,
    #[error("the request is not acceptable XML: {0}")]
    Xml(#[from] XmlError),
    #[error("the message is not a SAML 2.0 AuthnRequest")]
    NotAuthnRequest,
    #[error("the request has no valid ID or Issuer")]
    MissingField,
    #[error("no service provider is registered as the request's issuer")]
    UnknownIssuer,
    #[error("the service provider signs its requests but this one is unsigned")]
    Unsigned,
    #[error("the request signature is not valid: {0}")]
    Signature(String),
    #[error("the request is not addressed to Sesame's SSO service")]
    Destination,
    #[error("the request was issued outside the accepted time window")]
    Stale,
    #[error("the request asks for an ACS URL or binding that is not registered")]
    AssertionConsumerService,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AuthnRequestError {
    /// A stable code for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Binding(_) | Self::Encoding => "encoding",
            Self::Xml(_) => "xml",
            Self::NotAuthnRequest | Self::MissingField => "structure",
            Self::UnknownIssuer => "issuer.unknown",
            Self::Unsigned => "signature.missing",
            Self::Signature(_) => "signature.invalid",
            Self::Destination => "destination",
            Self::Stale => "time",
            Self::AssertionConsumerService => "acs",
            Self::Store(_) => "store",
        }
    }
}

impl From<DsigError> for AuthnRequestError {
    fn from(error: DsigError) -> Self {
        match error {
            DsigError::Doctype => Self::Xml(XmlError::Doctype),
            other => Self::Signature(other.to_string()),
        }
    }
}

/// Decodes, checks and (when signed) verifies a request. Runs on the blocking pool (it queries).
pub fn receive_authn_request(
    conn: &mut AnyConnection,
    binding: IncomingBinding<'_>,
    rules: &RequestRules<'_>,
    verifier: &dyn SignatureVerifier,
) -> Result<AuthnRequest, AuthnRequestError> {
    let result = receive(conn, binding, rules, verifier);
    if let Err(error) = &result {
        tracing::warn!(reason = error.code(), "SAML AuthnRequest refused: {error}");
    }
    result
}

fn receive(
    conn: &mut AnyConnection,
    binding: IncomingBinding<'_>,
    rules: &RequestRules<'_>,
    verifier: &dyn SignatureVerifier,
) -> Result<AuthnRequest, AuthnRequestError> {
    let (xml, relay_state, redirect) = match binding {
        IncomingBinding::Redirect { query } => {
            let message = RedirectMessage::decode(query, RedirectKind::Request, rules.max_bytes)?;
            (message.xml.clone(), message.relay_state.clone(), Some(message))
        }
        IncomingBinding::Post { saml_request, relay_state } => {
            let compact: String = saml_request.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            if compact.len() > rules.max_bytes / 3 * 4 + 4 {
                return Err(XmlError::TooLarge(rules.max_bytes).into());
            }
            let bytes = STANDARD.decode(compact).map_err(|_| AuthnRequestError::Encoding)?;
            (String::from_utf8(bytes).map_err(|_| AuthnRequestError::Encoding)?, relay_state.map(str::to_owned), None)
        }
    };
    let mut request = xml_tree::parse(&xml, Limits::message(rules.max_bytes))?;
    if !request.is(ns::PROTOCOL, "AuthnRequest") || request.attr("Version") != Some("2.0") {
        return Err(AuthnRequestError::NotAuthnRequest);
    }
    let issuer = request.child(ns::ASSERTION, "Issuer").map(|i| i.text().trim().to_owned()).unwrap_or_default();
    let sp = find_service_provider_by_entity_id(conn, &issuer)?.ok_or(AuthnRequestError::UnknownIssuer)?;
    let sp = RegisteredSp::from_row(&sp)?;

    let signed = match redirect {
        Some(message) if message.is_signed() => {
            message.verify(&sp.certificates).map_err(|e| AuthnRequestError::Signature(e.to_string()))?;
            true
        }
        Some(_) => false,
        None => {
            let signed = verifier.verify(&xml, &sp.certificates)?;
            match signed.as_slice() {
                [] => false,
                [element]
                    if element.depth == 0
                        && element.signature_is_child
                        && element.name == "AuthnRequest"
                        && request.attr("ID") == Some(element.id.as_str()) =>
                {
                    // Read the request from the bytes the signature covers.
                    request = xml_tree::parse(&element.canonical, Limits::message(rules.max_bytes))?;
                    true
                }
                _ => return Err(AuthnRequestError::Signature("the signature does not cover the request".into())),
            }
        }
    };
    if !signed && sp.requires_signature {
        return Err(AuthnRequestError::Unsigned);
    }
    check(&request, &sp, signed, rules).map(|id| AuthnRequest {
        id,
        issuer: sp.entity_id.clone(),
        acs_url: sp.acs_url.clone(),
        force_authn: request.attr("ForceAuthn").is_some_and(|v| v == "true" || v == "1"),
        is_passive: request.attr("IsPassive").is_some_and(|v| v == "true" || v == "1"),
        relay_state,
        signed,
    })
}

/// The request's own fields; returns its ID.
fn check(
    request: &Element,
    sp: &RegisteredSp,
    signed: bool,
    rules: &RequestRules<'_>,
) -> Result<String, AuthnRequestError> {
    let id = request.attr("ID").filter(|id| is_ncname(id)).ok_or(AuthnRequestError::MissingField)?;
    if request.child(ns::ASSERTION, "Issuer").map(|i| i.text().trim().to_owned()).as_deref()
        != Some(sp.entity_id.as_str())
    {
        return Err(AuthnRequestError::MissingField);
    }
    match request.attr("Destination") {
        Some(destination) if destination != rules.sso_url => return Err(AuthnRequestError::Destination),
        None if signed => return Err(AuthnRequestError::Destination),
        _ => {}
    }
    let issued = request.attr("IssueInstant").and_then(parse_instant).ok_or(AuthnRequestError::MissingField)?;
    if issued > rules.now + rules.clock_skew || issued < rules.now - rules.max_age - rules.clock_skew {
        return Err(AuthnRequestError::Stale);
    }
    if request.attr("AssertionConsumerServiceURL").is_some_and(|url| url != sp.acs_url)
        || request.attr("ProtocolBinding").is_some_and(|binding| binding != ns::BINDING_POST)
    {
        return Err(AuthnRequestError::AssertionConsumerService);
    }
    Ok(id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SSO: &str = "https://sesame.test/idp/sso";

    fn sp() -> RegisteredSp {
        RegisteredSp {
            entity_id: "https://p.test/sp".into(),
            acs_url: "https://p.test/acs".into(),
            certificates: Vec::new(),
            requires_signature: false,
        }
    }

    fn request(attributes: &str, issued: DateTime<Utc>) -> Element {
        let xml = format!(
            r#"<samlp:AuthnRequest xmlns:samlp="{}" xmlns:saml="{}" ID="_r1" Version="2.0" IssueInstant="{}" {attributes}><saml:Issuer>https://p.test/sp</saml:Issuer></samlp:AuthnRequest>"#,
            ns::PROTOCOL,
            ns::ASSERTION,
            super::super::super::ids::format_instant(issued)
        );
        xml_tree::parse(&xml, Limits::message(1 << 16)).unwrap()
    }

    fn check_at(attributes: &str, issued: DateTime<Utc>, signed: bool) -> Result<String, &'static str> {
        let rules = RequestRules {
            sso_url: SSO,
            now: Utc::now(),
            clock_skew: TimeDelta::minutes(1),
            max_age: TimeDelta::minutes(5),
            max_bytes: 1 << 16,
        };
        check(&request(attributes, issued), &sp(), signed, &rules).map_err(|e| e.code())
    }

    #[test]
    fn a_request_must_target_sesame_and_the_registered_acs() {
        let now = Utc::now();
        let acs = r#"AssertionConsumerServiceURL="https://p.test/acs" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST""#;
        assert_eq!(check_at(&format!(r#"Destination="{SSO}" {acs}"#), now, true), Ok("_r1".into()));
        assert_eq!(check_at("", now, false), Ok("_r1".into()), "unsigned requests may omit Destination");
        assert_eq!(check_at("", now, true), Err("destination"), "signed ones must name it");
        assert_eq!(check_at(r#"Destination="https://other.test/sso""#, now, false), Err("destination"));
        assert_eq!(check_at(r#"AssertionConsumerServiceURL="https://evil.test/acs""#, now, false), Err("acs"));
        assert_eq!(
            check_at(r#"ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact""#, now, false),
            Err("acs")
        );
        assert_eq!(check_at("", now - TimeDelta::minutes(10), false), Err("time"));
        assert_eq!(check_at("", now + TimeDelta::minutes(3), false), Err("time"));
    }
}
