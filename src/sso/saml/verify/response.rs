//! The SAML checks on an ENT's response, on top of the signature verifier (no database here).
//!
//! Order: decode and parse (no DTD, comments or processing instructions, size-capped); the
//! document shape (a `Response` with exactly one `Assertion` as its child, `ds:Signature`s only as
//! direct children of those two); the issuer's registered certificates; every signature valid;
//! each signature's single reference is the `Response` or `Assertion` whose direct child it is.
//! From then on the assertion is read **only from the bytes the signature covered** (the
//! canonical form the digest was computed over), and so is the `Response` when it is signed:
//! issuer, status, `Destination`, bearer `Recipient`, `InResponseTo`, time window with skew,
//! `Audience`, and the `idEnt` and `GARPersonIdentifiant` attributes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, TimeDelta, Utc};

use super::super::cert::Certificate;
use super::super::ids::parse_instant;
use super::super::ns;
use super::super::xml_tree::{self, Element, Limits};
use super::dsig::{SignatureVerifier, SignedElement};
use super::refusal::Refusal;

/// What the response must match.
#[derive(Clone, Debug)]
pub struct Expectations<'a> {
    /// Sesame's service provider entity ID (the audience).
    pub audience: &'a str,
    /// Sesame's assertion consumer service URL (`Destination`, `Recipient`).
    pub acs_url: &'a str,
    /// Whether a response that answers no request is acceptable (the assignment console).
    pub allow_unsolicited: bool,
    pub now: DateTime<Utc>,
    pub clock_skew: TimeDelta,
    /// Oldest acceptable assertion `IssueInstant` (before the skew).
    pub max_age: TimeDelta,
    pub max_bytes: usize,
}

/// A registered identity provider, as the verifier needs it.
#[derive(Clone, Debug)]
pub struct TrustedIdp {
    pub ent_id: String,
    pub entity_id: String,
    pub certificates: Vec<Certificate>,
}

/// The accepted content of a response, read from signed bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedResponse {
    pub ent_id: String,
    pub issuer: String,
    pub assertion_id: String,
    /// The request this response answers; `None` when unsolicited.
    pub in_response_to: Option<String>,
    /// The ENT's name for the user (often transient); Sesame identifies people by attributes.
    pub name_id: Option<String>,
    pub session_index: Option<String>,
    pub authn_instant: Option<DateTime<Utc>>,
    pub authn_context_class: Option<String>,
    /// `GARPersonIdentifiant`: the person's id in the ENT's directory feed.
    pub gar_person_id: String,
    /// Every attribute of the signed assertion, in order.
    pub attributes: Vec<(String, Vec<String>)>,
    /// After this instant the assertion would be refused anyway: how long to remember its ID.
    pub usable_until: DateTime<Utc>,
}

/// A decoded response, parsed once, with the issuer it claims (not yet trusted).
pub struct ReceivedResponse {
    xml: String,
    root: Element,
}

impl ReceivedResponse {
    /// Decodes the `SAMLResponse` form value and checks the document's shape.
    pub fn decode(saml_response: &str, max_bytes: usize) -> Result<Self, Refusal> {
        let compact: String = saml_response.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        if compact.len() > max_bytes / 3 * 4 + 4 {
            return Err(Refusal::TooLarge(max_bytes));
        }
        let bytes = STANDARD.decode(compact).map_err(|_| Refusal::Encoding)?;
        let xml = String::from_utf8(bytes).map_err(|_| Refusal::Encoding)?;
        Self::parse(xml, max_bytes)
    }

    /// Checks the shape of a response document.
    pub fn parse(xml: String, max_bytes: usize) -> Result<Self, Refusal> {
        let root = xml_tree::parse(&xml, Limits::message(max_bytes))?;
        if !root.is(ns::PROTOCOL, "Response") || root.attr("Version") != Some("2.0") {
            return Err(Refusal::NotAResponse);
        }
        let mut encrypted = Vec::new();
        root.descendants_named(ns::ASSERTION, "EncryptedAssertion", &mut encrypted);
        if !encrypted.is_empty() {
            return Err(Refusal::EncryptedAssertion);
        }
        let mut assertions = Vec::new();
        root.descendants_named(ns::ASSERTION, "Assertion", &mut assertions);
        let [assertion] = assertions[..] else { return Err(Refusal::AssertionCount(assertions.len())) };
        if root.children_named(ns::ASSERTION, "Assertion").count() != 1 {
            // The one assertion is nested somewhere else (Extensions, an Object…).
            return Err(Refusal::AssertionMisplaced);
        }
        let mut signatures = Vec::new();
        root.descendants_named(ns::DSIG, "Signature", &mut signatures);
        let placed = root.children_named(ns::DSIG, "Signature").count()
            + assertion.children_named(ns::DSIG, "Signature").count();
        if signatures.len() != placed
            || root.children_named(ns::DSIG, "Signature").count() > 1
            || assertion.children_named(ns::DSIG, "Signature").count() > 1
        {
            return Err(Refusal::SignatureMisplaced);
        }
        Ok(Self { xml, root })
    }

    /// The issuer the assertion claims, to find the identity provider's certificates. Not
    /// trusted: the signed assertion's issuer is compared with the registered one later.
    pub fn claimed_issuer(&self) -> Option<String> {
        let assertion = self.root.child(ns::ASSERTION, "Assertion")?;
        Some(assertion.child(ns::ASSERTION, "Issuer")?.text().trim().to_owned())
    }

    /// Verifies the response against the registered identity provider and `expect`.
    pub fn verify(
        &self,
        idp: &TrustedIdp,
        expect: &Expectations<'_>,
        verifier: &dyn SignatureVerifier,
    ) -> Result<VerifiedResponse, Refusal> {
        let signed = verifier.verify(&self.xml, &idp.certificates)?;
        if signed.is_empty() {
            return Err(Refusal::Unsigned);
        }
        let unsigned_assertion = self.root.child(ns::ASSERTION, "Assertion").ok_or(Refusal::AssertionMisplaced)?;
        let mut signed_response = None;
        let mut signed_assertion = None;
        for element in &signed {
            let expected_id = match (element.namespace.as_str(), element.name.as_str(), element.depth) {
                (ns::PROTOCOL, "Response", 0) => self.root.attr("ID"),
                (ns::ASSERTION, "Assertion", 1) => unsigned_assertion.attr("ID"),
                _ => None,
            };
            if !element.signature_is_child || expected_id != Some(element.id.as_str()) {
                return Err(Refusal::SignedElementMismatch);
            }
            if element.name == "Response" { signed_response = Some(element) } else { signed_assertion = Some(element) }
        }

        // From here on, only signed bytes: the Response if it is signed, else the raw one (its
        // fields are then only as good as what the signed assertion confirms).
        let response = match signed_response {
            Some(element) => reparse(element, expect.max_bytes)?,
            None => self.root.clone(),
        };
        let assertion = match signed_assertion {
            Some(element) => reparse(element, expect.max_bytes)?,
            None => response.child(ns::ASSERTION, "Assertion").cloned().ok_or(Refusal::AssertionMisplaced)?,
        };
        check(&response, signed_response.is_some(), &assertion, idp, expect)
    }
}

/// Parses the canonical bytes a signature covered.
fn reparse(element: &SignedElement, max_bytes: usize) -> Result<Element, Refusal> {
    Ok(xml_tree::parse(&element.canonical, Limits::message(max_bytes))?)
}

fn text_of(element: &Element, namespace: &str, name: &str) -> Option<String> {
    element.child(namespace, name).map(|child| child.text().trim().to_owned())
}

fn instant(element: &Element, attribute: &str) -> Result<Option<DateTime<Utc>>, Refusal> {
    match element.attr(attribute) {
        Some(text) => parse_instant(text).map(Some).ok_or_else(|| Refusal::Malformed(format!("bad {attribute}"))),
        None => Ok(None),
    }
}

fn check(
    response: &Element,
    response_signed: bool,
    assertion: &Element,
    idp: &TrustedIdp,
    expect: &Expectations<'_>,
) -> Result<VerifiedResponse, Refusal> {
    let (now, skew) = (expect.now, expect.clock_skew);

    let status = response
        .child(ns::PROTOCOL, "Status")
        .and_then(|status| status.child(ns::PROTOCOL, "StatusCode"))
        .and_then(|code| code.attr("Value"))
        .unwrap_or("none");
    if status != ns::STATUS_SUCCESS {
        return Err(Refusal::Status(status.to_owned()));
    }
    if text_of(assertion, ns::ASSERTION, "Issuer").as_deref() != Some(idp.entity_id.as_str())
        || text_of(response, ns::ASSERTION, "Issuer").is_some_and(|issuer| issuer != idp.entity_id)
    {
        return Err(Refusal::IssuerMismatch);
    }
    // SAML bindings §3.5.5.2: a signed message must name its destination.
    match response.attr("Destination") {
        Some(destination) if destination != expect.acs_url => return Err(Refusal::Destination),
        None if response_signed => return Err(Refusal::Destination),
        _ => {}
    }
    if assertion.attr("Version") != Some("2.0") {
        return Err(Refusal::Malformed("assertion version".into()));
    }
    let assertion_id =
        assertion.attr("ID").filter(|id| !id.is_empty()).ok_or(Refusal::Malformed("assertion ID".into()))?;
    let issued = instant(assertion, "IssueInstant")?.ok_or(Refusal::Malformed("IssueInstant".into()))?;
    if issued > now + skew {
        return Err(Refusal::NotYetValid);
    }
    if issued < now - expect.max_age - skew {
        return Err(Refusal::TooOld);
    }

    // Subject: a bearer confirmation for Sesame's ACS, still valid, answering the same request.
    let response_in_response_to = response.attr("InResponseTo");
    let subject = assertion.child(ns::ASSERTION, "Subject").ok_or(Refusal::Recipient)?;
    let mut confirmation_expiry = None;
    let mut confirmation_request = None;
    let mut problem = Refusal::Recipient;
    for confirmation in subject.children_named(ns::ASSERTION, "SubjectConfirmation") {
        let Some(data) = confirmation.child(ns::ASSERTION, "SubjectConfirmationData") else { continue };
        if confirmation.attr("Method") != Some(ns::CONFIRMATION_BEARER)
            || data.attr("Recipient") != Some(expect.acs_url)
        {
            continue;
        }
        let Some(not_on_or_after) = instant(data, "NotOnOrAfter")? else { continue };
        if not_on_or_after + skew <= now {
            problem = Refusal::Expired;
            continue;
        }
        if instant(data, "NotBefore")?.is_some_and(|not_before| not_before - skew > now) {
            problem = Refusal::NotYetValid;
            continue;
        }
        let request = data.attr("InResponseTo");
        if response_in_response_to.is_some() && request.is_some() && request != response_in_response_to {
            problem = Refusal::InResponseToMismatch;
            continue;
        }
        confirmation_expiry = Some(not_on_or_after);
        confirmation_request = request;
        break;
    }
    let confirmation_expiry = confirmation_expiry.ok_or(problem)?;
    // An unsigned Response's InResponseTo proves nothing: then only the signed confirmation's counts,
    // so an unsolicited assertion cannot be passed off as the answer to someone's request.
    let in_response_to =
        if response_signed { response_in_response_to.or(confirmation_request) } else { confirmation_request };
    let in_response_to = in_response_to.map(str::to_owned);
    if in_response_to.is_none() && !expect.allow_unsolicited {
        return Err(Refusal::Unsolicited);
    }

    // Conditions: the window, and every AudienceRestriction must name Sesame (there must be one).
    let conditions = assertion.child(ns::ASSERTION, "Conditions").ok_or(Refusal::Audience)?;
    if instant(conditions, "NotBefore")?.is_some_and(|not_before| not_before - skew > now) {
        return Err(Refusal::NotYetValid);
    }
    let conditions_expiry = instant(conditions, "NotOnOrAfter")?;
    if conditions_expiry.is_some_and(|not_on_or_after| not_on_or_after + skew <= now) {
        return Err(Refusal::Expired);
    }
    let mut restrictions = conditions.children_named(ns::ASSERTION, "AudienceRestriction").peekable();
    if restrictions.peek().is_none() {
        return Err(Refusal::Audience);
    }
    for restriction in restrictions {
        if !restriction.children_named(ns::ASSERTION, "Audience").any(|a| a.text().trim() == expect.audience) {
            return Err(Refusal::Audience);
        }
    }

    let attributes = attributes(assertion);
    let single = |name: &'static str| -> Result<String, Refusal> {
        match attributes.iter().find(|(n, _)| n == name).map(|(_, values)| values.as_slice()) {
            Some([value]) if !value.trim().is_empty() => Ok(value.trim().to_owned()),
            _ => Err(Refusal::MissingAttribute(name)),
        }
    };
    let id_ent = single("idEnt")?;
    let gar_person_id = single("GARPersonIdentifiant")?;
    if !names_ent(&id_ent, &idp.ent_id) {
        return Err(Refusal::EntMismatch);
    }

    let authn = assertion.child(ns::ASSERTION, "AuthnStatement");
    let latest_use =
        [Some(confirmation_expiry), conditions_expiry, Some(issued + expect.max_age)].into_iter().flatten().min();
    Ok(VerifiedResponse {
        ent_id: idp.ent_id.clone(),
        issuer: idp.entity_id.clone(),
        assertion_id: assertion_id.to_owned(),
        in_response_to,
        name_id: subject.child(ns::ASSERTION, "NameID").map(|n| n.text().trim().to_owned()),
        session_index: authn.and_then(|a| a.attr("SessionIndex")).map(str::to_owned),
        authn_instant: authn.map(|a| instant(a, "AuthnInstant")).transpose()?.flatten(),
        authn_context_class: authn
            .and_then(|a| a.child(ns::ASSERTION, "AuthnContext"))
            .and_then(|c| text_of(c, ns::ASSERTION, "AuthnContextClassRef")),
        gar_person_id,
        attributes,
        usable_until: latest_use.unwrap_or(confirmation_expiry) + skew,
    })
}

fn attributes(assertion: &Element) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for statement in assertion.children_named(ns::ASSERTION, "AttributeStatement") {
        for attribute in statement.children_named(ns::ASSERTION, "Attribute") {
            let Some(name) = attribute.attr("Name") else { continue };
            let values = attribute.children_named(ns::ASSERTION, "AttributeValue").map(Element::text);
            match out.iter_mut().find(|(n, _)| n == name) {
                Some((_, known)) => known.extend(values),
                None => out.push((name.to_owned(), values.collect())),
            }
        }
    }
    out
}

/// Whether an `idEnt` value names the ENT project: its id as is, or base64-encoded as the GAR
/// writes `idENT` in resource URLs.
fn names_ent(id_ent: &str, ent_id: &str) -> bool {
    id_ent == ent_id || STANDARD.decode(id_ent).is_ok_and(|decoded| decoded == ent_id.as_bytes())
}
