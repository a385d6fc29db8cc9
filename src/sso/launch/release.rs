//! One launch: a signed-on person opens a resource. The school is the one asked for, else the
//! first (by UAI) where the person may open it; the entitlement comes from
//! `store::entitlements` (the médiacentre's own path); the assertion goes to the resource's
//! service provider (else its publisher's) with exactly the attributes of the approved contract
//! the provider asks for (`domain::release::attributes_to_release`).
//!
//! [`prepare`] reads and signs; [`record`] appends the release to the audit log in its own write
//! transaction. [`launch`] does both, and the response leaves Sesame only once its release is
//! committed. Signing stays outside the transaction so that the audit chain (one writer at a time)
//! is held for the append alone, not for an RSA signature.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::attributes::{facts_wanted, values};
use crate::domain::audit::{Actor, AuditEvent, AuditKind};
use crate::domain::entitlement::{AllSchools, Clock, Resolution};
use crate::domain::pseudonym::Pseudonyms;
use crate::domain::release::{ReleaseAttribute, attributes_to_release};
use crate::domain::{Profile, Uai};
use crate::sso::saml::authn_request::AuthnRequest;
use crate::sso::saml::response::IssueError;
use crate::sso::saml::{Attribute, ResponseParams, SamlContext, SignatureAlgorithm, Signing, issue_with};
use crate::store::launch::{LaunchTarget, launch_target, person_facts};
use crate::store::{AnyConnection, StoreError, audit, entitlements, write_transaction};

/// The `AuthnContextClassRef` of released assertions: ENTs sign users in with a password over TLS.
const AUTHN_CONTEXT: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";

/// What a launch needs from the node, besides a connection.
#[derive(Clone, Copy)]
pub struct Launcher<'a> {
    pub saml: &'a SamlContext,
    pub pseudonyms: &'a Pseudonyms,
    pub deletion_grace_days: u32,
}

/// Who opens what.
#[derive(Clone, Debug)]
pub struct LaunchRequest<'a> {
    pub ent_id: &'a str,
    /// GARPersonIdentifiant.
    pub gar_id: &'a str,
    /// The school asked for (`idEtab`); `None`: the first where the resource is granted.
    pub uai: Option<&'a Uai>,
    pub resource_id: &'a str,
    /// The publisher's AuthnRequest this answers (SP-initiated); `None`: IdP-initiated.
    pub authn_request: Option<&'a AuthnRequest>,
    /// When the person signed in at their ENT.
    pub authn_instant: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

/// Why a launch did not release anything.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("no such resource")]
    UnknownResource,
    #[error("the person is not in the ENT project's directory")]
    UnknownPerson,
    /// A turnaway: the resource is not assigned to the person (in that school).
    #[error("the resource is not assigned to the person")]
    NotEntitled { publisher: String, uai: Option<Uai> },
    #[error("publisher {publisher} has no registered service provider")]
    NoServiceProvider { publisher: String },
    #[error("service provider {sp} has no approved release contract")]
    NoContract { sp: String },
    #[error("the AuthnRequest comes from another service provider than the resource's")]
    WrongServiceProvider,
}

impl Refused {
    /// A stable code for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownResource => "resource.unknown",
            Self::UnknownPerson => "person.unknown",
            Self::NotEntitled { .. } => "not_entitled",
            Self::NoServiceProvider { .. } => "sp.missing",
            Self::NoContract { .. } => "contract.missing",
            Self::WrongServiceProvider => "sp.mismatch",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the response could not be built: {0}")]
    Issue(#[from] IssueError),
    #[error("the registered service provider is unusable: {0}")]
    Registration(String),
}

impl From<diesel::result::Error> for LaunchError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Store(error.into())
    }
}

/// A signed response, ready to post, and what the audit log records of it.
#[derive(Clone, Debug)]
pub struct Release {
    /// The service provider's ACS (the form's action).
    pub acs_url: String,
    /// The base64 `SAMLResponse`.
    pub saml_response: String,
    pub relay_state: String,
    pub uai: Uai,
    event: AuditEvent,
}

impl Release {
    /// The audit event the release is recorded as (ids and attribute names, no values).
    pub fn event(&self) -> &AuditEvent {
        &self.event
    }
}

/// Prepares then records a launch; a turnaway is recorded too.
pub fn launch(
    conn: &mut AnyConnection,
    launcher: Launcher<'_>,
    request: &LaunchRequest<'_>,
) -> Result<Release, LaunchError> {
    match prepare(conn, launcher, request) {
        Ok(release) => {
            record(conn, &release)?;
            Ok(release)
        }
        Err(LaunchError::Refused(Refused::NotEntitled { publisher, uai })) => {
            let mut event = AuditEvent::new(
                AuditKind::Turnaway,
                Actor::ent(request.ent_id),
                json!({ "resource": request.resource_id, "publisher": publisher }),
            )
            .ent(request.ent_id)
            .subject(launcher.pseudonyms.audit_subject(request.ent_id, request.gar_id));
            if let Some(uai) = &uai {
                event = event.uai(uai.as_str());
            }
            write_transaction(conn, |conn| audit::append(conn, &event))?;
            Err(Refused::NotEntitled { publisher, uai }.into())
        }
        Err(other) => Err(other),
    }
}

/// Appends the release to the audit log.
pub fn record(conn: &mut AnyConnection, release: &Release) -> Result<(), StoreError> {
    write_transaction(conn, |conn| audit::append(conn, &release.event)).map(|_| ())
}

/// Checks the entitlement, computes the attribute values and signs the response.
pub fn prepare(
    conn: &mut AnyConnection,
    launcher: Launcher<'_>,
    request: &LaunchRequest<'_>,
) -> Result<Release, LaunchError> {
    let target = launch_target(conn, request.resource_id)?.ok_or(Refused::UnknownResource)?;
    let clock = Clock::new(request.now.naive_utc(), launcher.deletion_grace_days);
    let (uai, person_id, profiles) = school(conn, request, &target, clock)?;
    let sp = target
        .service_provider
        .as_ref()
        .ok_or_else(|| Refused::NoServiceProvider { publisher: target.publisher_id.clone() })?;
    if request.authn_request.is_some_and(|r| r.issuer != sp.entity_id) {
        return Err(Refused::WrongServiceProvider.into());
    }
    let contract = target.contract.as_ref().ok_or_else(|| Refused::NoContract { sp: sp.entity_id.clone() })?;
    let approved: Vec<ReleaseAttribute> = serde_json::from_str(&contract.attributes)
        .map_err(|e| LaunchError::Registration(format!("contract {} attributes: {e}", contract.id)))?;
    let requested: Vec<String> = serde_json::from_str(&sp.requested_attributes).unwrap_or_default();
    let released = attributes_to_release(&approved, &requested);

    let facts = person_facts(conn, person_id, uai.as_str(), facts_wanted(&released))?;
    let ido = launcher.pseudonyms.ido(request.ent_id, request.gar_id, &target.publisher_id);
    let attributes: Vec<Attribute> = released
        .iter()
        .map(|&attribute| Attribute::new(attribute.code(), values(attribute, &ido, &uai, &profiles, &facts)))
        .filter(|attribute| !attribute.values.is_empty())
        .collect();

    let algorithm = SignatureAlgorithm::from_code(&sp.signature_algorithm)
        .ok_or_else(|| LaunchError::Registration(format!("signature algorithm {}", sp.signature_algorithm)))?;
    let saml = launcher.saml;
    let params = ResponseParams {
        issuer: &saml.endpoints.idp_entity_id,
        destination: &sp.acs_url,
        audience: &sp.entity_id,
        in_response_to: request.authn_request.map(|r| r.id.as_str()),
        name_id: &ido,
        session_index: None,
        authn_instant: request.authn_instant,
        authn_context_class: AUTHN_CONTEXT,
        attributes: &attributes,
        issued_at: request.now,
        lifetime: saml.assertion_lifetime(),
        clock_skew: saml.clock_skew(),
    };
    let signing = if sp.sign_response { Signing::ResponseAndAssertion } else { Signing::AssertionOnly };
    let issued = issue_with(&params, saml.keys.key(algorithm), signing)?;

    let event = AuditEvent::new(
        AuditKind::Release,
        Actor::ent(request.ent_id),
        json!({
            "resource": target.resource_id,
            "publisher": target.publisher_id,
            "sp": sp.entity_id,
            "contract": { "id": contract.id, "version": contract.version },
            "attributes": attributes.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
            "assertion": issued.assertion_id,
        }),
    )
    .ent(request.ent_id)
    .uai(uai.as_str())
    .subject(launcher.pseudonyms.audit_subject(request.ent_id, request.gar_id));
    let relay_state = match request.authn_request.and_then(|r| r.relay_state.clone()) {
        Some(relay) => relay,
        None => target.resource_url.clone(),
    };
    Ok(Release { acs_url: sp.acs_url.clone(), saml_response: issued.to_base64(), relay_state, uai, event })
}

/// The school of the launch, the person's `persons.id` and profiles there.
fn school(
    conn: &mut AnyConnection,
    request: &LaunchRequest<'_>,
    target: &LaunchTarget,
    clock: Clock,
) -> Result<(Uai, i64, Vec<Profile>), LaunchError> {
    let not_entitled = |uai: Option<Uai>| Refused::NotEntitled { publisher: target.publisher_id.clone(), uai };
    match request.uai {
        Some(uai) => match entitlements::resolve(conn, request.ent_id, request.gar_id, uai, clock)? {
            Resolution::UnknownPerson => Err(Refused::UnknownPerson.into()),
            Resolution::Granted(found) if found.resource(&target.resource_id).is_some() => {
                Ok((uai.clone(), found.person_id, found.profiles))
            }
            // Another ENT's school, a school the person is not in, or no licence: the same answer.
            _ => Err(not_entitled(Some(uai.clone())).into()),
        },
        None => match entitlements::resolve_all(conn, request.ent_id, request.gar_id, clock)? {
            AllSchools::UnknownPerson => Err(Refused::UnknownPerson.into()),
            AllSchools::Schools { schools } => {
                let first = schools.first().map(|(uai, _)| uai.clone());
                // Sorted by UAI: the same school every time.
                schools
                    .into_iter()
                    .find(|(_, found)| found.resource(&target.resource_id).is_some())
                    .map(|(uai, found)| (uai, found.person_id, found.profiles))
                    .ok_or_else(|| not_entitled(first).into())
            }
        },
    }
}
