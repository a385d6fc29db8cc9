//! ETABL subscriptions: every person of the school whose public is in `publicCible` has access at
//! once; a manager may switch a public off for the school (an exception record) and back on.

use serde::Serialize;
use serde_json::json;

use super::author::Author;
use super::error::LedgerError;
use super::facts::{school_ent, subscription};
use crate::domain::audit::{AuditEvent, AuditKind};
use crate::domain::subscription::AssignmentType;
use crate::domain::{Public, Uai};
use crate::store::assignments as ledger;
use crate::store::{AnyConnection, audit, write_transaction};

/// What switching did: nothing when the public already was in that state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Switched {
    pub changed: bool,
    pub history_id: Option<i64>,
}

/// History actions of the two switches.
pub(crate) const SWITCH_ON: &str = "SWITCH_ON";
pub(crate) const SWITCH_OFF: &str = "SWITCH_OFF";

/// Switches `public` on (`enabled`) or off for ETABL subscription `subscription_id` in school `uai`.
pub fn set_school_wide(
    conn: &mut AnyConnection,
    author: &Author<'_>,
    uai: &Uai,
    subscription_id: i64,
    public: Public,
    enabled: bool,
) -> Result<Switched, LedgerError> {
    write_transaction(conn, |conn| {
        audit::lock_chain(conn)?;
        let sub = subscription(conn, subscription_id, uai)?;
        if sub.assignment_type != AssignmentType::Establishment {
            return Err(LedgerError::Individual(sub.id));
        }
        if !sub.publics.contains(&public) {
            return Err(LedgerError::PublicNotSubscribed { subscription: sub.id, public });
        }
        let changed = switch(conn, author, uai, sub.id, public, enabled)?;
        if !changed {
            return Ok(Switched { changed, history_id: None });
        }
        let action = if enabled { SWITCH_ON } else { SWITCH_OFF };
        let details = json!({ "public": public.code() });
        let history_id =
            ledger::insert_history(conn, uai, Some(sub.id), None, action, author.actor.as_str(), &details, author.now)?;
        let kind = if enabled { AuditKind::AssignmentCreated } else { AuditKind::AssignmentRevoked };
        let event = AuditEvent::new(
            kind,
            author.actor.clone(),
            json!({ "subscription": sub.id, "history": history_id, "schoolWide": true, "public": public.code() }),
        )
        .ent(school_ent(conn, uai)?)
        .uai(uai.as_str());
        audit::append_at(conn, &event, author.now)?;
        tracing::info!(uai = %uai, subscription = sub.id, public = public.code(), enabled, "school-wide access switched");
        Ok(Switched { changed, history_id: Some(history_id) })
    })
}

/// Writes the exception record (or removes it); false when nothing changed.
pub(crate) fn switch(
    conn: &mut AnyConnection,
    author: &Author<'_>,
    uai: &Uai,
    subscription_id: i64,
    public: Public,
    enabled: bool,
) -> Result<bool, LedgerError> {
    Ok(if enabled {
        ledger::delete_opt_out(conn, subscription_id, uai, public)?
    } else {
        ledger::insert_opt_out(conn, subscription_id, uai, public, author.actor.as_str(), author.now)?
    })
}
