//! Applying retention: old audit events (behind a signed segment boundary, so the log still
//! verifies), people removed from the directory for longer than the grace period (with their
//! seats, counters given back), past school years of assignment history, expired sign-on state.
//! The run is one transaction and is itself audited (`retention.purged`, counts only).
//!
//! Audit events are purged only from a log that verifies: purging a tampered log would erase the
//! evidence. The rest of the purge still happens, and the event says why events were kept.

use chrono::NaiveDateTime;
use serde::Serialize;
use serde_json::json;

use super::error::AuditError;
use super::metrics;
use super::signing::{Signer, TrustedKeys};
use super::verify::{self, Tampering};
use super::{checkpoint, dry_run};
use crate::config::RetentionConfig;
use crate::domain::audit::{Actor, AuditEvent, AuditKind, format_at};
use crate::domain::audit_checkpoint::KeptDigest;
use crate::domain::pseudonym::Pseudonyms;
use crate::domain::retention::{Cutoffs, RetentionPolicy};
use crate::store::audit::DeletedEvents;
use crate::store::person_data::{self, ErasedCounts, Removal};
use crate::store::retention::{self as store_retention, ExpiredPurged, HistoryPurged};
use crate::store::{AnyConnection, audit};

impl RetentionConfig {
    pub fn policy(&self) -> RetentionPolicy {
        RetentionPolicy {
            release_days: self.release_days,
            audit_days: self.audit_days,
            removed_person_grace_days: self.removed_person_grace_days,
            assignment_history_school_years: self.assignment_history_school_years,
        }
    }
}

/// What a purge of audit events did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "outcome")]
pub enum EventsPurge {
    /// Events deleted; the chain now starts from the segment boundary at `boundary` (when any was).
    Purged { deleted: DeletedEvents, boundary: Option<i64> },
    /// The log did not verify, so nothing was deleted from it.
    Kept { reason: String },
}

/// What one retention run removed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PurgeReport {
    #[serde(skip)]
    pub cutoffs: Cutoffs,
    pub audit_events: EventsPurge,
    pub persons: ErasedCounts,
    pub assignment_history: HistoryPurged,
    pub expired: ExpiredPurged,
    /// The `retention.purged` event, when the run removed anything (or kept a tampered log).
    #[serde(skip)]
    pub event: Option<i64>,
}

impl PurgeReport {
    pub fn removed_anything(&self) -> bool {
        let events = matches!(&self.audit_events, EventsPurge::Purged { deleted, .. } if deleted.total() > 0);
        events
            || self.persons != ErasedCounts::default()
            || self.assignment_history != HistoryPurged::default()
            || self.expired != ExpiredPurged::default()
    }

    /// The tampering found, if the audit events had to be kept.
    pub fn tampering(&self) -> Option<&str> {
        match &self.audit_events {
            EventsPurge::Kept { reason } => Some(reason),
            EventsPurge::Purged { .. } => None,
        }
    }
}

/// What a run needs besides the connection.
pub struct Purger<'a> {
    pub policy: RetentionPolicy,
    pub signer: &'a Signer,
    pub trusted: &'a TrustedKeys,
    pub pseudonyms: &'a Pseudonyms,
    pub actor: Actor,
}

impl Purger<'_> {
    /// Purges what is due at `now`. With `dry_run`, everything is done then rolled back, so the
    /// report counts exactly what a real run would remove. `progress` gets events verified so far.
    pub fn run(
        &self,
        conn: &mut AnyConnection,
        now: NaiveDateTime,
        dry_run: bool,
        progress: &dyn Fn(u64),
    ) -> Result<PurgeReport, AuditError> {
        let cutoffs = self.policy.cutoffs(now);
        let scan = scan_events(conn, self.trusted, &cutoffs, progress)?;
        let report = dry_run::transaction(conn, dry_run, |conn| {
            let audit_events = match &scan {
                Ok(plan) => EventsPurge::Purged {
                    deleted: self.delete_events(conn, plan, &cutoffs, now, dry_run)?,
                    boundary: (plan.due > 0).then_some(plan.last_seq),
                },
                Err(tampering) => EventsPurge::Kept { reason: tampering.to_string() },
            };
            let persons = self.purge_persons(conn, &cutoffs, now)?;
            let assignment_history = store_retention::purge_assignment_history(conn, cutoffs.assignment_history)?;
            let expired = store_retention::purge_expired(conn, now)?;
            let mut report = PurgeReport { cutoffs, audit_events, persons, assignment_history, expired, event: None };
            if (report.removed_anything() || report.tampering().is_some()) && !dry_run {
                let event = AuditEvent::new(AuditKind::RetentionPurged, self.actor.clone(), details(&report));
                report.event = Some(audit::append(conn, &event)?);
            }
            Ok(report)
        })?;
        if !dry_run {
            record_metrics(&report);
        }
        Ok(report)
    }

    fn delete_events(
        &self,
        conn: &mut AnyConnection,
        plan: &EventsPlan,
        cutoffs: &Cutoffs,
        now: NaiveDateTime,
        dry_run: bool,
    ) -> Result<DeletedEvents, AuditError> {
        if plan.due == 0 {
            return Ok(DeletedEvents::default());
        }
        // The boundary is signed before the events go, in the same transaction (not in a dry
        // run, which rolls back: nothing would be signed).
        if !dry_run {
            checkpoint::segment(conn, self.signer, plan.last_seq, plan.last_hash.clone(), plan.kept.clone(), now)?;
        }
        let deleted = audit::delete_due(conn, plan.last_seq, cutoffs.release_events, cutoffs.other_events)?;
        if deleted.total() != plan.due {
            return Err(AuditError::PurgeRace { expected: plan.due, deleted: deleted.total() });
        }
        Ok(deleted)
    }

    fn purge_persons(
        &self,
        conn: &mut AnyConnection,
        cutoffs: &Cutoffs,
        now: NaiveDateTime,
    ) -> Result<ErasedCounts, AuditError> {
        let mut total = ErasedCounts::default();
        for (person_id, ent_id, gar_id) in store_retention::removed_before(conn, cutoffs.removed_persons)? {
            let pseudonym = self.pseudonyms.audit_subject(&ent_id, &gar_id);
            total += person_data::remove_person(
                conn,
                &Removal {
                    ent_id: &ent_id,
                    gar_id: &gar_id,
                    person_id: Some(person_id),
                    pseudonym: &pseudonym,
                    reason: "retention: removed from the directory",
                    manager_record: false,
                    now,
                },
            )?;
        }
        Ok(total)
    }
}

/// The audit events a run will delete, worked out while verifying the log.
struct EventsPlan {
    /// The last event of the verified snapshot: the new segment boundary.
    last_seq: i64,
    last_hash: String,
    /// Events due, at or before `last_seq`.
    due: usize,
    /// The events that stay at or before `last_seq`.
    kept: crate::domain::audit_checkpoint::KeptEvents,
}

fn scan_events(
    conn: &mut AnyConnection,
    trusted: &TrustedKeys,
    cutoffs: &Cutoffs,
    progress: &dyn Fn(u64),
) -> Result<Result<EventsPlan, Tampering>, AuditError> {
    let mut kept = KeptDigest::default();
    let mut due = 0;
    let mut last = (0, String::new());
    let outcome = verify::verify(
        conn,
        trusted,
        |event| {
            if cutoffs.event_is_due(&event.kind, event.at) {
                due += 1;
            } else {
                kept.add(event.seq, &event.hash);
            }
            last = (event.seq, event.hash.clone());
        },
        progress,
    )?;
    Ok(outcome.map(|_| EventsPlan { last_seq: last.0, last_hash: last.1, due, kept: kept.finish() }))
}

fn details(report: &PurgeReport) -> serde_json::Value {
    let cutoffs = &report.cutoffs;
    json!({
        "cutoffs": {
            "releaseEvents": format_at(cutoffs.release_events),
            "otherEvents": format_at(cutoffs.other_events),
            "removedPersons": format_at(cutoffs.removed_persons),
            "assignmentHistory": format_at(cutoffs.assignment_history),
        },
        "auditEvents": report.audit_events,
        "persons": report.persons,
        "assignmentHistory": report.assignment_history,
        "expired": report.expired,
    })
}

fn record_metrics(report: &PurgeReport) {
    if let EventsPurge::Purged { deleted, .. } = &report.audit_events {
        metrics::purged("release_traces", deleted.release_traces);
        metrics::purged("audit_events", deleted.other);
    }
    metrics::purged("persons", report.persons.persons);
    metrics::purged("seats", report.persons.seats_deleted + report.assignment_history.released_seats);
    metrics::purged("assignment_history", report.assignment_history.history);
    metrics::purged("assignments", report.assignment_history.revoked_assignments);
    metrics::purged("saml_requests", report.expired.saml_requests);
    metrics::purged("replay_cache", report.expired.replay_cache);
    metrics::purged("sessions", report.expired.sessions + report.persons.sessions);
}
