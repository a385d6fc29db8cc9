//! Undoing a change from a school's history.
//!
//! - an assignment: its assignment is withdrawn (seats freed, people waiting served);
//! - a withdrawal: what it revoked is live again and the people it withdrew are covered again;
//!   they all need their seat back, so when the seats have been given to others meanwhile the
//!   undo is refused with "no licence left";
//! - a transfer: both halves, in one step;
//! - switching an ETABL public off or on: switched back.
//!
//! An undo is itself recorded in the history, and cannot be undone.

use serde::Serialize;
use serde_json::json;

use super::author::Author;
use super::error::LedgerError;
use super::facts::{school_ent, subscription};
use super::school_wide::{SWITCH_OFF, SWITCH_ON, switch};
use super::sync::{SeatChanges, Strict, sync};
use crate::domain::audit::{AuditEvent, AuditKind};
use crate::domain::{Public, Uai};
use crate::store::assignments::{self as ledger, HistoryEntry};
use crate::store::{AnyConnection, audit, write_transaction};

/// The reason written on seats an undone assignment frees.
const UNDONE: &str = "affectation annulée par le responsable d'affectation";

/// What an undo did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Undone {
    /// The UNDO entry recording it.
    pub history_id: i64,
    pub undid: i64,
    pub changes: SeatChanges,
}

/// Undoes entry `history_id` of school `uai`'s history.
pub fn undo(conn: &mut AnyConnection, author: &Author<'_>, uai: &Uai, history_id: i64) -> Result<Undone, LedgerError> {
    write_transaction(conn, |conn| {
        audit::lock_chain(conn)?;
        let entry = ledger::find_history(conn, uai, history_id)?.ok_or(LedgerError::UnknownHistory(history_id))?;
        if entry.undone_at.is_some() {
            return Err(LedgerError::AlreadyUndone(history_id));
        }
        let not = |reason| LedgerError::NotUndoable { id: history_id, reason };
        let subscription_id = entry.subscription_id.ok_or_else(|| not("elle ne concerne aucune ressource"))?;
        let sub = subscription(conn, subscription_id, uai)?;
        let ent_id = school_ent(conn, uai)?;
        let changes = match entry.action.as_str() {
            "ASSIGN" => {
                revoke_made(conn, author, &entry)?;
                sync(conn, author, &ent_id, &sub, uai, &Strict::default(), UNDONE)?
            }
            "WITHDRAW" => {
                let strict = restore(conn, uai, &entry)?;
                sync(conn, author, &ent_id, &sub, uai, &strict, UNDONE)?
            }
            "TRANSFER" => {
                revoke_made(conn, author, &entry)?;
                let strict = restore(conn, uai, &entry)?;
                sync(conn, author, &ent_id, &sub, uai, &strict, UNDONE)?
            }
            action @ (SWITCH_ON | SWITCH_OFF) => {
                let public = entry.details["public"].as_str().and_then(|code| Public::parse(code).ok());
                let public = public.ok_or_else(|| not("son public n'est pas lisible"))?;
                // Undoing "off" switches on, and the other way round.
                if !switch(conn, author, uai, sub.id, public, action == SWITCH_OFF)? {
                    return Err(not("le public a déjà été rebasculé depuis"));
                }
                SeatChanges::default()
            }
            _ => return Err(not("une annulation ne s'annule pas")),
        };
        ledger::mark_undone(conn, history_id, author.actor.as_str(), author.now)?;
        let details = json!({ "undoes": history_id, "action": entry.action, "changes": changes });
        let undo_id =
            ledger::insert_history(conn, uai, Some(sub.id), None, "UNDO", author.actor.as_str(), &details, author.now)?;
        let event = AuditEvent::new(
            AuditKind::AssignmentUndone,
            author.actor.clone(),
            json!({
                "subscription": sub.id,
                "history": undo_id,
                "undoes": history_id,
                "action": entry.action,
                "granted": changes.granted,
                "released": changes.released,
            }),
        )
        .ent(&ent_id)
        .uai(uai.as_str());
        audit::append_at(conn, &event, author.now)?;
        tracing::info!(uai = %uai, subscription = sub.id, undone = history_id, "history entry undone");
        Ok(Undone { history_id: undo_id, undid: history_id, changes })
    })
}

/// Revokes the assignment an ASSIGN or TRANSFER entry made, which must still be live.
fn revoke_made(conn: &mut AnyConnection, author: &Author<'_>, entry: &HistoryEntry) -> Result<(), LedgerError> {
    let not = |reason| LedgerError::NotUndoable { id: entry.id, reason };
    let id = entry.assignment_id.ok_or_else(|| not("elle n'a créé aucune affectation"))?;
    // The entry belongs to this school's history, so its assignment is of this school.
    if ledger::revoke_assignments(conn, &[id], &author.name, UNDONE, author.now)? == 0 {
        return Err(not("l'affectation a déjà été retirée depuis"));
    }
    Ok(())
}

/// Makes what a WITHDRAW or TRANSFER entry revoked live again and deletes its withdrawals;
/// returns who must get their seat back.
fn restore(conn: &mut AnyConnection, uai: &Uai, entry: &HistoryEntry) -> Result<Strict, LedgerError> {
    let revoked: Vec<i64> =
        entry.details["revoked"].as_array().into_iter().flatten().filter_map(|id| id.as_i64()).collect();
    let assignments = ledger::find_assignments(conn, uai, &revoked)?;
    if assignments.iter().any(|a| a.revoked_at.is_none()) {
        return Err(LedgerError::NotUndoable { id: entry.id, reason: "une affectation retirée est déjà revenue" });
    }
    if let Some(sub) = entry.subscription_id {
        let live = ledger::live_assignments(conn, sub, uai)?;
        if assignments.iter().any(|a| live.iter().any(|l| l.target == a.target)) {
            return Err(LedgerError::NotUndoable {
                id: entry.id, reason: "la même cible a été réaffectée depuis"
            });
        }
    }
    ledger::restore_assignments(conn, &revoked)?;
    let persons = ledger::delete_exclusions(conn, entry.id)?;
    Ok(Strict { assignments: revoked.into_iter().collect(), persons: persons.into_iter().collect() })
}
