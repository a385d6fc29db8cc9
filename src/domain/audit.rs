//! Audit events and the hash chain that makes the audit log tamper-evident.
//!
//! Each stored event carries `hash = SHA-256(canonical(prev_hash, seq, at, kind, actor, ent, uai,
//! subject, details))`, so changing, inserting, deleting or reordering a stored event breaks the
//! chain from that point on. The canonical form is a JSON array of the stored column values, with
//! `details` kept as the exact stored text: verifying never re-serializes anything.

use std::fmt;

use aws_lc_rs::digest;
use chrono::NaiveDateTime;
use serde::Serialize;

/// `prev_hash` of the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened. The code is what `audit_events.kind` stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum AuditKind {
    /// A distributor created a subscription through the abonnement web service.
    SubscriptionCreated,
    SubscriptionUpdated,
    SubscriptionDeleted,
    /// A manager gave a subscription to a population.
    AssignmentCreated,
    AssignmentRevoked,
    /// A manager undid an earlier change from the history.
    AssignmentUndone,
    /// Licences withdrawn from one population and given to another in one step.
    AssignmentTransferred,
    /// A directory change gave a waiting person a seat, or freed one (the actor is the ENT feed).
    SeatGranted,
    SeatReleased,
    /// A person covered by an assignment was put on the waiting list: no seat was left.
    SeatQueued,
    /// A directory export was applied, held for confirmation, confirmed or rejected.
    FeedApplied,
    FeedHeld,
    FeedConfirmed,
    FeedRejected,
    /// Resource notices were imported into the catalogue.
    CatalogueImported,
    /// National directory attributes of schools (nature, type, commune…) were imported.
    SchoolsImported,
    /// Personal data was sent to a publisher in a signed assertion.
    Release,
    /// A user was refused a resource (no licence).
    Turnaway,
    ContractApproved,
    ContractRetired,
    /// An ENT project, distributor, publisher, IdP/SP or client certificate was registered or changed.
    PartnerChanged,
    /// Configuration or key material changed (generation, rotation).
    KeyChanged,
    ConfigChanged,
    /// An export of the audit data was produced.
    ExportCreated,
    /// Retention purged old data.
    RetentionPurged,
    /// A person's data was erased on request.
    PersonErased,
}

impl AuditKind {
    pub const ALL: [AuditKind; 26] = [
        AuditKind::SubscriptionCreated,
        AuditKind::SubscriptionUpdated,
        AuditKind::SubscriptionDeleted,
        AuditKind::AssignmentCreated,
        AuditKind::AssignmentRevoked,
        AuditKind::AssignmentUndone,
        AuditKind::AssignmentTransferred,
        AuditKind::SeatGranted,
        AuditKind::SeatReleased,
        AuditKind::SeatQueued,
        AuditKind::FeedApplied,
        AuditKind::FeedHeld,
        AuditKind::FeedConfirmed,
        AuditKind::FeedRejected,
        AuditKind::CatalogueImported,
        AuditKind::SchoolsImported,
        AuditKind::Release,
        AuditKind::Turnaway,
        AuditKind::ContractApproved,
        AuditKind::ContractRetired,
        AuditKind::PartnerChanged,
        AuditKind::KeyChanged,
        AuditKind::ConfigChanged,
        AuditKind::ExportCreated,
        AuditKind::RetentionPurged,
        AuditKind::PersonErased,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AuditKind::SubscriptionCreated => "subscription.created",
            AuditKind::SubscriptionUpdated => "subscription.updated",
            AuditKind::SubscriptionDeleted => "subscription.deleted",
            AuditKind::AssignmentCreated => "assignment.created",
            AuditKind::AssignmentRevoked => "assignment.revoked",
            AuditKind::AssignmentUndone => "assignment.undone",
            AuditKind::AssignmentTransferred => "assignment.transferred",
            AuditKind::SeatGranted => "seat.granted",
            AuditKind::SeatReleased => "seat.released",
            AuditKind::SeatQueued => "seat.queued",
            AuditKind::FeedApplied => "feed.applied",
            AuditKind::FeedHeld => "feed.held",
            AuditKind::FeedConfirmed => "feed.confirmed",
            AuditKind::FeedRejected => "feed.rejected",
            AuditKind::CatalogueImported => "catalogue.imported",
            AuditKind::SchoolsImported => "schools.imported",
            AuditKind::Release => "release",
            AuditKind::Turnaway => "turnaway",
            AuditKind::ContractApproved => "contract.approved",
            AuditKind::ContractRetired => "contract.retired",
            AuditKind::PartnerChanged => "partner.changed",
            AuditKind::KeyChanged => "key.changed",
            AuditKind::ConfigChanged => "config.changed",
            AuditKind::ExportCreated => "export.created",
            AuditKind::RetentionPurged => "retention.purged",
            AuditKind::PersonErased => "person.erased",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.code() == code)
    }
}

impl fmt::Display for AuditKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Who did it, as `role:identifier`, e.g. `distributor:123456789_0000000000000000`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Actor(String);

impl Actor {
    pub fn distributor(id: &str) -> Self {
        Self(format!("distributor:{id}"))
    }

    /// An ENT project acting through its certificate (feed, médiacentre) or its users' sign-on.
    pub fn ent(id: &str) -> Self {
        Self(format!("ent:{id}"))
    }

    /// An assignment manager: their ENT project and GARPersonIdentifiant.
    pub fn manager(ent_id: &str, gar_id: &str) -> Self {
        Self(format!("manager:{ent_id}/{gar_id}"))
    }

    /// Someone running a `sesame` command on the server.
    pub fn operator() -> Self {
        Self("operator:cli".into())
    }

    /// An auditor (data-protection officer, CNIL) calling with their registered certificate.
    pub fn auditor(name: &str) -> Self {
        Self(format!("auditor:{name}"))
    }

    /// A scheduled job of Sesame itself, e.g. `system:retention`.
    pub fn system(job: &str) -> Self {
        Self(format!("system:{job}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An event to append. Values are identifiers, codes and counts: never names or attribute values.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditEvent {
    pub kind: AuditKind,
    pub actor: Actor,
    pub ent_id: Option<String>,
    pub uai: Option<String>,
    /// The person concerned, as a pseudonym (see `domain::pseudonym::Pseudonyms::audit_subject`).
    pub subject: Option<String>,
    pub details: serde_json::Value,
}

impl AuditEvent {
    pub fn new(kind: AuditKind, actor: Actor, details: serde_json::Value) -> Self {
        Self { kind, actor, ent_id: None, uai: None, subject: None, details }
    }

    pub fn ent(mut self, ent_id: impl Into<String>) -> Self {
        self.ent_id = Some(ent_id.into());
        self
    }

    pub fn uai(mut self, uai: impl Into<String>) -> Self {
        self.uai = Some(uai.into());
        self
    }

    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }
}

/// An event as stored, with its place in the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEvent {
    pub seq: i64,
    pub at: NaiveDateTime,
    pub kind: String,
    pub actor: String,
    pub ent_id: Option<String>,
    pub uai: Option<String>,
    pub subject: Option<String>,
    /// JSON, exactly as stored.
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

impl StoredEvent {
    /// The hash this event must carry given its content and predecessor.
    pub fn expected_hash(&self) -> String {
        chain_hash(
            &self.prev_hash,
            self.seq,
            self.at,
            &self.kind,
            &self.actor,
            self.ent_id.as_deref(),
            self.uai.as_deref(),
            self.subject.as_deref(),
            &self.details,
        )
    }
}

/// Timestamps are hashed with microseconds, the precision both backends store.
pub fn format_at(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// SHA-256 of the canonical JSON array of an event's stored values, lower-case hex.
#[allow(clippy::too_many_arguments)]
pub fn chain_hash(
    prev_hash: &str,
    seq: i64,
    at: NaiveDateTime,
    kind: &str,
    actor: &str,
    ent_id: Option<&str>,
    uai: Option<&str>,
    subject: Option<&str>,
    details: &str,
) -> String {
    let canonical = serde_json::to_string(&(prev_hash, seq, format_at(at), kind, actor, ent_id, uai, subject, details))
        .expect("strings and integers always serialize");
    hex::encode(digest::digest(&digest::SHA256, canonical.as_bytes()))
}

/// Where a chain of stored events stops being trustworthy.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("event {seq}: its content does not match its hash (modified)")]
    Modified { seq: i64 },
    #[error("event {seq}: it does not follow event {previous} (an event was inserted, deleted or moved)")]
    Broken { seq: i64, previous: i64 },
    #[error("event {seq}: sequence numbers go from {previous} to {seq} (an event was deleted or reordered)")]
    Gap { seq: i64, previous: i64 },
}

/// Checks consecutive events: each hash matches its content and links to the one before.
/// `start` is the (seq, hash) the first event must follow: `(0, GENESIS_HASH)` from the beginning,
/// or a signed segment boundary after a purge.
pub fn verify_chain<'a>(
    start: (i64, &str),
    events: impl IntoIterator<Item = &'a StoredEvent>,
) -> Result<Option<(i64, String)>, ChainError> {
    let (mut previous_seq, mut previous_hash) = (start.0, start.1.to_owned());
    let mut last = None;
    for event in events {
        if event.seq != previous_seq + 1 {
            return Err(ChainError::Gap { seq: event.seq, previous: previous_seq });
        }
        if event.prev_hash != previous_hash {
            return Err(ChainError::Broken { seq: event.seq, previous: previous_seq });
        }
        if event.expected_hash() != event.hash {
            return Err(ChainError::Modified { seq: event.seq });
        }
        previous_seq = event.seq;
        previous_hash = event.hash.clone();
        last = Some((previous_seq, previous_hash.clone()));
    }
    Ok(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<StoredEvent> {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap().and_hms_micro_opt(9, 0, 0, 123_456).unwrap();
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let mut event = StoredEvent {
                    seq,
                    at,
                    kind: "assignment.created".into(),
                    actor: Actor::manager("Z0", "z0-doc-0001").to_string(),
                    ent_id: Some("Z0".into()),
                    uai: Some("0990001N".into()),
                    subject: None,
                    details: format!("{{\"assignment\":{seq}}}"),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                event.hash = event.expected_hash();
                prev = event.hash.clone();
                event
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        let events = chain(5);
        let last = verify_chain((0, GENESIS_HASH), &events).unwrap().unwrap();
        assert_eq!(last, (5, events[4].hash.clone()));
        assert_eq!(verify_chain((0, GENESIS_HASH), &[]), Ok(None));
        // A later segment verifies from its boundary.
        assert!(verify_chain((2, &events[1].hash), &events[2..]).is_ok());
    }

    #[test]
    fn tampering_is_detected() {
        let mut modified = chain(5);
        modified[2].details = "{\"assignment\":99}".into();
        assert_eq!(verify_chain((0, GENESIS_HASH), &modified), Err(ChainError::Modified { seq: 3 }));

        let mut deleted = chain(5);
        deleted.remove(2);
        assert_eq!(verify_chain((0, GENESIS_HASH), &deleted), Err(ChainError::Gap { seq: 4, previous: 2 }));

        let mut reordered = chain(5);
        reordered.swap(1, 2);
        assert!(verify_chain((0, GENESIS_HASH), &reordered).is_err());

        // A re-hashed forgery still does not link to its predecessor.
        let mut forged = chain(5);
        forged[2].prev_hash = GENESIS_HASH.into();
        forged[2].hash = forged[2].expected_hash();
        assert_eq!(verify_chain((0, GENESIS_HASH), &forged), Err(ChainError::Broken { seq: 3, previous: 2 }));
    }

    #[test]
    fn kinds_round_trip() {
        for kind in AuditKind::ALL {
            assert_eq!(AuditKind::parse(kind.code()), Some(kind));
        }
    }
}
