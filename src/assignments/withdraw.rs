//! Withdrawing a subscription from a population, and transferring licences from one population
//! to another in one step.

use std::collections::HashSet;

use serde::Serialize;
use serde_json::json;

use super::assign::{WITHDRAWN_BY_MANAGER, check_target, open_individual};
use super::author::Author;
use super::error::LedgerError;
use super::facts::{append_about, audit_target, history_target, individual, school_ent};
use super::sync::{SeatChanges, Strict, sync};
use crate::domain::Uai;
use crate::domain::assignment::AssignmentTarget;
use crate::domain::audit::{AuditEvent, AuditKind};
use crate::domain::ledger::seat_public;
use crate::store::assignments::{self as ledger, SubscriptionFacts};
use crate::store::{AnyConnection, audit, write_transaction};

/// What a withdrawal did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Withdrawn {
    pub history_id: i64,
    /// Assignments of exactly that population (or of one of its people), now revoked.
    pub revoked: Vec<i64>,
    /// People withdrawn from other live collections that still covered them.
    pub excluded: usize,
    pub changes: SeatChanges,
}

/// Takes subscription `subscription_id` away from `target` in school `uai`: nobody of the target
/// keeps it through an assignment. Assignments of exactly that target, and individual assignments
/// of its people, are revoked; its people are withdrawn from any other live collection (a class
/// that also holds it) without touching the rest of that collection. Freed seats go to people
/// waiting, first come first served.
pub fn withdraw(
    conn: &mut AnyConnection,
    author: &Author<'_>,
    uai: &Uai,
    subscription_id: i64,
    target: AssignmentTarget,
) -> Result<Withdrawn, LedgerError> {
    let target = target.normalized()?;
    write_transaction(conn, |conn| {
        audit::lock_chain(conn)?;
        let sub = individual(conn, subscription_id, uai)?;
        let ent_id = school_ent(conn, uai)?;
        let history_id = ledger::insert_history(
            conn,
            uai,
            Some(sub.id),
            None,
            "WITHDRAW",
            author.actor.as_str(),
            &json!({}),
            author.now,
        )?;
        let (revoked, excluded) = withdraw_records(conn, author, &sub, uai, &target, history_id)?;
        let changes = sync(conn, author, &ent_id, &sub, uai, &Strict::default(), WITHDRAWN_BY_MANAGER)?;
        let details = json!({
            "target": history_target(&target),
            "revoked": revoked,
            "excluded": excluded,
            "changes": changes,
        });
        ledger::set_history_details(conn, history_id, None, &details)?;
        let event = AuditEvent::new(
            AuditKind::AssignmentRevoked,
            author.actor.clone(),
            json!({
                "subscription": sub.id,
                "history": history_id,
                "target": audit_target(&target),
                "revoked": revoked,
                "excluded": excluded,
                "released": changes.released,
            }),
        );
        append_about(conn, author, event, &ent_id, uai, &target)?;
        tracing::info!(uai = %uai, subscription = sub.id, released = changes.released, "withdrawn");
        Ok(Withdrawn { history_id, revoked, excluded, changes })
    })
}

/// What a transfer did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Transferred {
    pub history_id: i64,
    pub revoked: Vec<i64>,
    pub excluded: usize,
    /// The new assignment of the receiving population.
    pub assignment_id: i64,
    pub changes: SeatChanges,
}

/// Withdraws the subscription from `from` and gives it to `to` in one transaction: the seats
/// `from` frees are available to `to` before anyone waiting. If `to` does not fit, nothing changes.
pub fn transfer(
    conn: &mut AnyConnection,
    author: &Author<'_>,
    uai: &Uai,
    subscription_id: i64,
    from: AssignmentTarget,
    to: AssignmentTarget,
) -> Result<Transferred, LedgerError> {
    let (from, to) = (from.normalized()?, to.normalized()?);
    write_transaction(conn, |conn| {
        audit::lock_chain(conn)?;
        let sub = open_individual(conn, author, subscription_id, uai)?;
        check_target(conn, &sub, uai, &to)?;
        let ent_id = school_ent(conn, uai)?;
        let history_id = ledger::insert_history(
            conn,
            uai,
            Some(sub.id),
            None,
            "TRANSFER",
            author.actor.as_str(),
            &json!({}),
            author.now,
        )?;
        let (revoked, excluded) = withdraw_records(conn, author, &sub, uai, &from, history_id)?;
        if let Some(same) = ledger::live_assignments(conn, sub.id, uai)?.into_iter().find(|a| a.target == to) {
            return Err(LedgerError::AlreadyAssigned { assignment: same.id, target: to });
        }
        let assignment_id = ledger::insert_assignment(conn, sub.id, uai, &to, &author.name, author.now)?;
        let changes =
            sync(conn, author, &ent_id, &sub, uai, &Strict::assignments([assignment_id]), WITHDRAWN_BY_MANAGER)?;
        let details = json!({
            "from": history_target(&from),
            "to": history_target(&to),
            "revoked": revoked,
            "excluded": excluded,
            "assignment": assignment_id,
            "changes": changes,
        });
        ledger::set_history_details(conn, history_id, Some(assignment_id), &details)?;
        let event = AuditEvent::new(
            AuditKind::AssignmentTransferred,
            author.actor.clone(),
            json!({
                "subscription": sub.id,
                "history": history_id,
                "from": audit_target(&from),
                "to": audit_target(&to),
                "revoked": revoked,
                "assignment": assignment_id,
                "granted": changes.granted,
                "released": changes.released,
            }),
        );
        let event = match (&from, &to) {
            (AssignmentTarget::Person(gar_id), _) | (_, AssignmentTarget::Person(gar_id)) => {
                event.subject(author.subject(&ent_id, gar_id))
            }
            _ => event,
        };
        audit::append_at(conn, &event.ent(&ent_id).uai(uai.as_str()), author.now)?;
        tracing::info!(uai = %uai, subscription = sub.id, assignment = assignment_id, "transferred");
        Ok(Transferred { history_id, revoked, excluded, assignment_id, changes })
    })
}

/// Records a withdrawal (revocations and exclusions, under `history_id`) without moving seats.
/// Refused when nobody of `target` holds the subscription through an assignment.
fn withdraw_records(
    conn: &mut AnyConnection,
    author: &Author<'_>,
    sub: &SubscriptionFacts,
    uai: &Uai,
    target: &AssignmentTarget,
    history_id: i64,
) -> Result<(Vec<i64>, usize), LedgerError> {
    let live = ledger::live_assignments(conn, sub.id, uai)?;
    // Only people the subscription licenses hold it through an assignment (a class's teachers
    // do not, when it counts pupils only). A population that left the directory has no members,
    // but its assignment can still go.
    let licensed = sub.licensed_publics();
    let members: HashSet<i64> = ledger::members(conn, uai, target)?
        .unwrap_or_default()
        .into_iter()
        .filter(|m| seat_public(&m.profiles, &licensed).is_some())
        .map(|m| m.person_id)
        .collect();
    let mut revoked = Vec::new();
    let mut excluded = Vec::new();
    for assignment in &live {
        if assignment.target == *target {
            revoked.push(assignment.id);
            continue;
        }
        let covered = ledger::members(conn, uai, &assignment.target)?.unwrap_or_default();
        let overlap: Vec<i64> = covered.iter().map(|m| m.person_id).filter(|id| members.contains(id)).collect();
        if overlap.is_empty() {
            continue;
        }
        if assignment.target.is_collection() {
            excluded.extend(overlap.into_iter().map(|person| (assignment.id, person)));
        } else {
            revoked.push(assignment.id);
        }
    }
    if revoked.is_empty() && excluded.is_empty() {
        return Err(LedgerError::NothingToWithdraw(target.clone()));
    }
    ledger::revoke_assignments(conn, &revoked, &author.name, WITHDRAWN_BY_MANAGER, author.now)?;
    ledger::insert_exclusions(conn, &excluded, history_id)?;
    Ok((revoked, excluded.len()))
}
