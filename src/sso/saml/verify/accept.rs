//! Accepting an ENT's response at Sesame's assertion consumer service: find the registered
//! identity provider of its issuer, verify it (`response`), then, in one write transaction,
//! consume the request it answers and record its assertion ID. Both are rows shared by every
//! node, so a response is accepted once, wherever it is replayed. A refusal is logged once here,
//! with its code and the ENT, never the message content.

use chrono::{DateTime, Utc};

use super::super::cert::Certificate;
use super::dsig::SignatureVerifier;
use super::refusal::Refusal;
use super::response::{Expectations, ReceivedResponse, TrustedIdp, VerifiedResponse};
use crate::store::saml::{self as saml_store, IdentityProviderRow, TakenRequest};
use crate::store::{AnyConnection, StoreError, write_transaction};

/// The response was refused, or the database failed.
#[derive(Debug, thiserror::Error)]
pub enum AcsError {
    #[error("SAML response refused: {0}")]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for AcsError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Store(error.into())
    }
}

/// A user signed in by their ENT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedIn {
    pub response: VerifiedResponse,
    /// What Sesame recorded with the request this answers (where to resume); `None` when unsolicited.
    pub relay: Option<String>,
}

impl TrustedIdp {
    /// The registration's certificates; a registration whose certificates no longer parse
    /// cannot vouch for anything.
    pub fn from_row(row: &IdentityProviderRow) -> Result<Self, Refusal> {
        let certificates = Certificate::list_from_pem(&row.certificates)
            .map_err(|e| Refusal::SignatureInvalid(format!("registered certificates unusable: {e}")))?;
        Ok(Self { ent_id: row.ent_id.clone(), entity_id: row.entity_id.clone(), certificates })
    }
}

/// Verifies and accepts the `SAMLResponse` form value. Runs on the blocking pool (it queries).
pub fn receive_response(
    conn: &mut AnyConnection,
    saml_response: &str,
    expect: &Expectations<'_>,
    verifier: &dyn SignatureVerifier,
) -> Result<SignedIn, AcsError> {
    let mut ent = None;
    let result = receive(conn, saml_response, expect, verifier, &mut ent);
    if let Err(AcsError::Refused(refusal)) = &result {
        tracing::warn!(
            reason = refusal.code(),
            ent = ent.as_deref().unwrap_or("-"),
            "SAML response refused: {refusal}"
        );
    }
    result
}

fn receive(
    conn: &mut AnyConnection,
    saml_response: &str,
    expect: &Expectations<'_>,
    verifier: &dyn SignatureVerifier,
    ent: &mut Option<String>,
) -> Result<SignedIn, AcsError> {
    let received = ReceivedResponse::decode(saml_response, expect.max_bytes)?;
    let issuer = received.claimed_issuer().ok_or(Refusal::UnknownIssuer)?;
    let row = saml_store::find_identity_provider_by_entity_id(conn, &issuer)?.ok_or(Refusal::UnknownIssuer)?;
    *ent = Some(row.ent_id.clone());
    let idp = TrustedIdp::from_row(&row)?;
    let response = received.verify(&idp, expect, verifier)?;
    let relay = accept(conn, &response, expect.now)?;
    Ok(SignedIn { response, relay })
}

/// Consumes the request `response` answers and records its assertion, in one transaction.
/// Returns the request's relay (`None` when unsolicited).
pub fn accept(
    conn: &mut AnyConnection,
    response: &VerifiedResponse,
    now: DateTime<Utc>,
) -> Result<Option<String>, AcsError> {
    let now = now.naive_utc();
    write_transaction(conn, |conn| {
        // The assertion first: a replay is reported as one even once its request is consumed.
        let expires_at = response.usable_until.naive_utc();
        if !saml_store::remember_assertion(conn, &response.assertion_id, &response.issuer, expires_at)? {
            return Err(Refusal::Replay.into());
        }
        match &response.in_response_to {
            Some(request) => match saml_store::take_request(conn, request, &response.ent_id, now)? {
                TakenRequest::Pending { relay } => Ok(Some(relay)),
                // Rolling back also forgets the assertion: it was not consumed.
                TakenRequest::Expired => Err(Refusal::RequestExpired.into()),
                TakenRequest::Unknown => Err(Refusal::UnknownRequest.into()),
            },
            None => Ok(None),
        }
    })
}
