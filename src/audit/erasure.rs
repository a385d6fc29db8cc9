//! Erasure requests (`sesame person erase`): a person's directory record, memberships, seats
//! (their licence counters given back), sessions and assignment-manager record are removed; their
//! identifier in personal assignments is replaced by their audit pseudonym. What stays is what the
//! audit trail must keep, already pseudonymous: events name the person by that pseudonym only,
//! until their retention period ends. The publishers that received data about the person are
//! listed, so the request can be forwarded to them. The erasure is audited (`person.erased`,
//! pseudonym and counts only).

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde_json::json;

use super::dry_run;
use super::error::AuditError;
use super::traces::{Recipient, Trace, recipients};
use crate::domain::audit::{Actor, AuditEvent, AuditKind};
use crate::domain::pseudonym::Pseudonyms;
use crate::store::person_data::{self, ErasedCounts, Removal};
use crate::store::{AnyConnection, audit, reports};

/// What an erasure removed (or, in a dry run, would remove) and whom to tell.
#[derive(Clone, Debug)]
pub struct ErasureReport {
    pub subject: String,
    pub in_directory: bool,
    pub counts: ErasedCounts,
    /// Audit events that stay, under the pseudonym.
    pub kept_events: usize,
    /// Publishers that received data about the person, with their names when known.
    pub recipients: Vec<(Recipient, Option<String>)>,
    /// The `person.erased` event (none in a dry run).
    pub event: Option<i64>,
}

/// Erases the person `gar_id` of ENT project `ent_id`. With `dry_run`, reports without changing anything.
pub fn erase(
    conn: &mut AnyConnection,
    pseudonyms: &Pseudonyms,
    ent_id: &str,
    gar_id: &str,
    actor: &Actor,
    now: NaiveDateTime,
    dry_run: bool,
) -> Result<ErasureReport, AuditError> {
    let subject = pseudonyms.audit_subject(ent_id, gar_id);
    dry_run::transaction(conn, dry_run, |conn| {
        let person = person_data::find_person(conn, ent_id, gar_id)?;
        let events = audit::events_of_subject(conn, &subject)?;
        if person.is_none() && events.is_empty() {
            return Err(AuditError::UnknownPerson { ent_id: ent_id.to_owned(), gar_id: gar_id.to_owned() });
        }
        let traces: Vec<Trace> = events.iter().filter_map(Trace::parse).collect();
        let recipients = recipients(&traces);
        let names: BTreeMap<String, String> =
            reports::publisher_names(conn, recipients.iter().map(|r| r.publisher.as_str()))?;
        let recipients: Vec<_> = recipients
            .into_iter()
            .map(|r| {
                let name = names.get(&r.publisher).cloned();
                (r, name)
            })
            .collect();
        let removal = Removal {
            ent_id,
            gar_id,
            person_id: person.as_ref().map(|p| p.id),
            pseudonym: &subject,
            reason: "erasure request",
            manager_record: true,
            now,
        };
        let mut report = ErasureReport {
            subject: subject.clone(),
            in_directory: person.is_some(),
            counts: ErasedCounts::default(),
            kept_events: events.len(),
            recipients,
            event: None,
        };
        report.counts = person_data::remove_person(conn, &removal)?;
        if dry_run {
            return Ok(report);
        }
        let publishers: Vec<&str> = report.recipients.iter().map(|(r, _)| r.publisher.as_str()).collect();
        let event = AuditEvent::new(
            AuditKind::PersonErased,
            actor.clone(),
            json!({ "removed": report.counts, "keptEvents": report.kept_events, "recipients": publishers }),
        )
        .ent(ent_id)
        .subject(&subject);
        report.event = Some(audit::append(conn, &event)?);
        Ok(report)
    })
}
