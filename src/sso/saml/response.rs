//! The signed SAML `Response` Sesame posts to a publisher's assertion consumer service, as an
//! identity provider: one `Assertion` about a persistent pseudonym (the `IDO`) with the attributes
//! the publisher's contract allows, the assertion signed, then the whole response signed.
//!
//! Everything is written in exclusive c14n form (see `canonical`), so the digests are over the
//! bytes sent. Attribute values are plain text (`NameFormat` basic, no `xsi:type`), as the GAR
//! sends them to resources.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, TimeDelta, Utc};

use super::canonical::{Canonical, InvalidXmlChar};
use super::enveloped;
use super::ids::{format_instant, new_id};
use super::keys::{SigningFailed, SigningKey};
use super::ns;

/// One released attribute and its values, in the order given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribute {
    pub name: String,
    pub values: Vec<String>,
}

impl Attribute {
    pub fn new(name: impl Into<String>, values: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self { name: name.into(), values: values.into_iter().map(Into::into).collect() }
    }
}

/// What goes into a response to one publisher's service provider.
pub struct ResponseParams<'a> {
    /// Sesame's identity provider entity ID.
    pub issuer: &'a str,
    /// The service provider's ACS URL: `Destination` and the bearer confirmation's `Recipient`.
    pub destination: &'a str,
    /// The service provider's entity ID, the only audience.
    pub audience: &'a str,
    /// The ID of the service provider's AuthnRequest; `None` for an IdP-initiated launch.
    pub in_response_to: Option<&'a str>,
    /// The persistent subject identifier: the publisher's `IDO` pseudonym.
    pub name_id: &'a str,
    /// Sesame's session with the user, for a later single logout.
    pub session_index: Option<&'a str>,
    /// When the user authenticated at their ENT, and how (the ENT's `AuthnContextClassRef`).
    pub authn_instant: DateTime<Utc>,
    pub authn_context_class: &'a str,
    /// Released attributes; an attribute without values is left out.
    pub attributes: &'a [Attribute],
    pub issued_at: DateTime<Utc>,
    /// How long the assertion can be used (`NotOnOrAfter` = `issued_at` + lifetime).
    pub lifetime: TimeDelta,
    /// `NotBefore` = `issued_at` − skew, for publishers whose clocks run behind.
    pub clock_skew: TimeDelta,
}

/// A built, signed response.
pub struct IssuedResponse {
    pub response_id: String,
    pub assertion_id: String,
    /// The document, with no XML declaration (UTF-8, as the POST binding carries it).
    pub xml: String,
}

impl IssuedResponse {
    /// The `SAMLResponse` form value of the HTTP-POST binding.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(&self.xml)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("{field} holds a character XML cannot carry: {source}")]
    InvalidCharacter { field: &'static str, source: InvalidXmlChar },
    #[error("{0} is empty")]
    Empty(&'static str),
    #[error(transparent)]
    Signing(#[from] SigningFailed),
}

fn field(name: &'static str) -> impl Fn(InvalidXmlChar) -> IssueError {
    move |source| IssueError::InvalidCharacter { field: name, source }
}

const SAML: (&str, &str) = ("saml", ns::ASSERTION);
const SAMLP: (&str, &str) = ("samlp", ns::PROTOCOL);

/// What is signed in a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signing {
    /// The Assertion, then the whole Response (the default).
    ResponseAndAssertion,
    /// The Assertion only: the GAR-compatible minimum, one signature instead of two.
    AssertionOnly,
}

/// Builds and signs the response and its assertion with `key` (the service provider's algorithm).
pub fn issue(params: &ResponseParams<'_>, key: &SigningKey) -> Result<IssuedResponse, IssueError> {
    issue_with(params, key, Signing::ResponseAndAssertion)
}

/// Builds the response, signing what `signing` says with `key`.
pub fn issue_with(
    params: &ResponseParams<'_>,
    key: &SigningKey,
    signing: Signing,
) -> Result<IssuedResponse, IssueError> {
    for (name, value) in [("issuer", params.issuer), ("audience", params.audience), ("name_id", params.name_id)] {
        if value.is_empty() {
            return Err(IssueError::Empty(name));
        }
    }
    let assertion_id = new_id();
    let response_id = new_id();
    let issued = format_instant(params.issued_at);
    let not_on_or_after = format_instant(params.issued_at + params.lifetime);
    let assertion = signed_assertion(params, key, &assertion_id, &issued, &not_on_or_after)?;

    let mut xml = Canonical::with_capacity(assertion.len() + 2048);
    let mut attributes = vec![("Destination", params.destination), ("ID", &response_id), ("IssueInstant", &issued)];
    attributes.extend(params.in_response_to.map(|id| ("InResponseTo", id)));
    attributes.push(("Version", "2.0"));
    xml.start("samlp:Response", &[SAMLP], &attributes).map_err(field("destination or in_response_to"))?;
    xml.text_element("saml:Issuer", &[SAML], &[], params.issuer).map_err(field("issuer"))?;
    let split = xml.as_str().len();
    xml.start("samlp:Status", &[], &[]).map_err(field("status"))?;
    xml.empty("samlp:StatusCode", &[], &[("Value", ns::STATUS_SUCCESS)]).map_err(field("status"))?;
    xml.end("samlp:Status");
    xml.fragment(&assertion);
    xml.end("samlp:Response");

    let body = xml.into_string();
    if signing == Signing::AssertionOnly {
        return Ok(IssuedResponse { response_id, assertion_id, xml: body });
    }
    let (head, tail) = body.split_at(split);
    let signature = enveloped::signature(&response_id, head, tail, key)?;
    let mut out = String::with_capacity(body.len() + signature.len());
    out.push_str(head);
    out.push_str(&signature);
    out.push_str(tail);
    Ok(IssuedResponse { response_id, assertion_id, xml: out })
}

fn signed_assertion(
    params: &ResponseParams<'_>,
    key: &SigningKey,
    id: &str,
    issued: &str,
    not_on_or_after: &str,
) -> Result<String, IssueError> {
    let not_before = format_instant(params.issued_at - params.clock_skew);
    let authn_instant = format_instant(params.authn_instant);
    let mut xml = Canonical::with_capacity(2048 + params.attributes.len() * 200);
    xml.start("saml:Assertion", &[SAML], &[("ID", id), ("IssueInstant", issued), ("Version", "2.0")])
        .map_err(field("assertion"))?;
    xml.text_element("saml:Issuer", &[], &[], params.issuer).map_err(field("issuer"))?;
    let split = xml.as_str().len();

    xml.start("saml:Subject", &[], &[]).map_err(field("subject"))?;
    xml.text_element(
        "saml:NameID",
        &[],
        &[("Format", ns::NAMEID_PERSISTENT), ("NameQualifier", params.issuer), ("SPNameQualifier", params.audience)],
        params.name_id,
    )
    .map_err(field("name_id"))?;
    xml.start("saml:SubjectConfirmation", &[], &[("Method", ns::CONFIRMATION_BEARER)]).map_err(field("subject"))?;
    let mut confirmation = vec![("NotOnOrAfter", not_on_or_after), ("Recipient", params.destination)];
    confirmation.extend(params.in_response_to.map(|request| ("InResponseTo", request)));
    xml.empty("saml:SubjectConfirmationData", &[], &confirmation).map_err(field("destination or in_response_to"))?;
    xml.end("saml:SubjectConfirmation");
    xml.end("saml:Subject");

    xml.start("saml:Conditions", &[], &[("NotBefore", &not_before), ("NotOnOrAfter", not_on_or_after)])
        .map_err(field("conditions"))?;
    xml.start("saml:AudienceRestriction", &[], &[]).map_err(field("conditions"))?;
    xml.text_element("saml:Audience", &[], &[], params.audience).map_err(field("audience"))?;
    xml.end("saml:AudienceRestriction");
    xml.end("saml:Conditions");

    let mut authn = vec![("AuthnInstant", authn_instant.as_str())];
    authn.extend(params.session_index.map(|index| ("SessionIndex", index)));
    xml.start("saml:AuthnStatement", &[], &authn).map_err(field("session_index"))?;
    xml.start("saml:AuthnContext", &[], &[]).map_err(field("authn_context_class"))?;
    xml.text_element("saml:AuthnContextClassRef", &[], &[], params.authn_context_class)
        .map_err(field("authn_context_class"))?;
    xml.end("saml:AuthnContext");
    xml.end("saml:AuthnStatement");

    let released: Vec<&Attribute> = params.attributes.iter().filter(|a| !a.values.is_empty()).collect();
    if !released.is_empty() {
        xml.start("saml:AttributeStatement", &[], &[]).map_err(field("attributes"))?;
        for attribute in released {
            if attribute.name.is_empty() {
                return Err(IssueError::Empty("attribute name"));
            }
            xml.start("saml:Attribute", &[], &[("Name", &attribute.name), ("NameFormat", ns::ATTRNAME_BASIC)])
                .map_err(field("attribute name"))?;
            for value in &attribute.values {
                xml.text_element("saml:AttributeValue", &[], &[], value).map_err(field("attribute value"))?;
            }
            xml.end("saml:Attribute");
        }
        xml.end("saml:AttributeStatement");
    }
    xml.end("saml:Assertion");

    let body = xml.into_string();
    let (head, tail) = body.split_at(split);
    let signature = enveloped::signature(id, head, tail, key)?;
    let mut out = String::with_capacity(body.len() + signature.len());
    out.push_str(head);
    out.push_str(&signature);
    out.push_str(tail);
    Ok(out)
}
