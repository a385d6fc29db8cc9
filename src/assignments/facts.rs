//! Loading what a ledger change works on, with the checks every change shares.

use serde_json::{Value, json};

use super::author::Author;
use super::error::LedgerError;
use crate::domain::Uai;
use crate::domain::assignment::AssignmentTarget;
use crate::domain::audit::AuditEvent;
use crate::domain::subscription::AssignmentType;
use crate::store::assignments::{self as ledger, SubscriptionFacts};
use crate::store::schema::establishments;
use crate::store::{AnyConnection, StoreError, audit};

/// A subscription covering `uai`, deleted ones included; another school's is unknown.
pub(crate) fn subscription(
    conn: &mut AnyConnection,
    subscription_id: i64,
    uai: &Uai,
) -> Result<SubscriptionFacts, LedgerError> {
    ledger::find_subscription(conn, subscription_id, uai)?.ok_or(LedgerError::UnknownSubscription(subscription_id))
}

/// An INDIV subscription covering `uai`.
pub(crate) fn individual(
    conn: &mut AnyConnection,
    subscription_id: i64,
    uai: &Uai,
) -> Result<SubscriptionFacts, LedgerError> {
    let sub = subscription(conn, subscription_id, uai)?;
    match sub.assignment_type {
        AssignmentType::Individual => Ok(sub),
        AssignmentType::Establishment => Err(LedgerError::SchoolWide(subscription_id)),
    }
}

/// The ENT project a school belongs to.
pub(crate) fn school_ent(conn: &mut AnyConnection, uai: &Uai) -> Result<String, StoreError> {
    use diesel::prelude::*;
    establishments::table
        .find(uai.as_str())
        .select(establishments::ent_id)
        .first(conn)
        .optional()?
        .ok_or_else(|| StoreError::Corrupt(format!("school {uai} is not in the directory")))
}

/// A target in the history (a database table: identifiers are kept to show and undo the change).
pub(crate) fn history_target(target: &AssignmentTarget) -> Value {
    serde_json::to_value(target).expect("a target always serializes")
}

/// A target in an audit event: codes only; a person is the event's subject instead.
pub(crate) fn audit_target(target: &AssignmentTarget) -> Value {
    match target {
        AssignmentTarget::Person(_) => json!({ "kind": target.kind() }),
        _ => history_target(target),
    }
}

/// Appends a manager's event, naming the person as its subject when the target is one person.
pub(crate) fn append_about(
    conn: &mut AnyConnection,
    author: &Author<'_>,
    event: AuditEvent,
    ent_id: &str,
    uai: &Uai,
    target: &AssignmentTarget,
) -> Result<(), LedgerError> {
    let event = match target {
        AssignmentTarget::Person(gar_id) => event.subject(author.subject(ent_id, gar_id)),
        _ => event,
    };
    audit::append_at(conn, &event.ent(ent_id).uai(uai.as_str()), author.now)?;
    Ok(())
}
