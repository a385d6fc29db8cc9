//! Keeping live collections live: after a directory change, or when counters grow, seats follow
//! the people. The directory feed calls [`reconcile`] inside its import transaction.

use std::collections::BTreeSet;

use diesel::prelude::*;
use serde::Serialize;

use super::author::Author;
use super::error::LedgerError;
use super::facts::school_ent;
use super::sync::{SeatChanges, Strict, sync};
use crate::domain::Uai;
use crate::domain::subscription::AssignmentType;
use crate::store::assignments::{self as ledger, RELEASED};
use crate::store::schema::{assignment_seats, assignments, establishments, subscription_establishments};
use crate::store::{AnyConnection, StoreError, audit, write_transaction};

/// What a reconciliation moved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReconcileSummary {
    /// Schools of the ENT project looked at.
    pub schools: usize,
    /// (subscription, school) ledgers brought up to date.
    pub ledgers: usize,
    /// Seats given: newcomers, and people waiting who got a freed seat.
    pub granted: usize,
    /// Seats freed by people who left (reason recorded on each seat).
    pub released: usize,
    /// Newcomers put on the waiting list.
    pub waiting: usize,
}

impl ReconcileSummary {
    fn add(&mut self, changes: SeatChanges) {
        self.ledgers += 1;
        self.granted += changes.granted;
        self.released += changes.released;
        self.waiting += changes.waiting;
    }
}

/// Brings every INDIV ledger of the given schools of ENT project `ent_id` in line with the
/// directory: newcomers of live collections get seats while seats remain (else wait), people who
/// left free their seat (`release_reason` says why, e.g. "a quitté la classe 6A"), and people
/// waiting get freed seats, first come first served. Schools of other ENT projects are ignored.
/// One transaction (a savepoint inside the caller's).
pub fn reconcile(
    conn: &mut AnyConnection,
    ent_id: &str,
    uais: &[Uai],
    author: &Author<'_>,
) -> Result<ReconcileSummary, StoreError> {
    let schools: BTreeSet<&Uai> = uais.iter().collect();
    write_transaction(conn, |conn| {
        audit::lock_chain(conn)?;
        let mut summary = ReconcileSummary::default();
        for uai in schools {
            let owner: Option<String> =
                establishments::table.find(uai.as_str()).select(establishments::ent_id).first(conn).optional()?;
            if owner.as_deref() != Some(ent_id) {
                continue;
            }
            summary.schools += 1;
            for subscription_id in ledgers_of_school(conn, uai)? {
                summary.add(sync_live(conn, author, ent_id, subscription_id, uai)?);
            }
        }
        if summary.granted + summary.released + summary.waiting > 0 {
            tracing::info!(ent = ent_id, ?summary, "ledger reconciled");
        }
        Ok(summary)
    })
}

/// As [`reconcile`], for every school a subscription covers: after its distributor raised a
/// counter, people waiting get the new seats.
pub fn reconcile_subscription(
    conn: &mut AnyConnection,
    subscription_id: i64,
    author: &Author<'_>,
) -> Result<ReconcileSummary, StoreError> {
    write_transaction(conn, |conn| {
        audit::lock_chain(conn)?;
        let schools: Vec<String> = subscription_establishments::table
            .filter(subscription_establishments::subscription_id.eq(subscription_id))
            .order(subscription_establishments::uai)
            .select(subscription_establishments::uai)
            .load(conn)?;
        let mut summary = ReconcileSummary::default();
        for uai in schools.iter().filter_map(|uai| Uai::parse(uai).ok()) {
            summary.schools += 1;
            let ent_id = school_ent(conn, &uai)?;
            summary.add(sync_live(conn, author, &ent_id, subscription_id, &uai)?);
        }
        Ok(summary)
    })
}

/// Subscriptions with a live assignment or a held seat in a school.
fn ledgers_of_school(conn: &mut AnyConnection, uai: &Uai) -> Result<BTreeSet<i64>, StoreError> {
    let mut ids: BTreeSet<i64> = assignments::table
        .filter(assignments::uai.eq(uai.as_str()))
        .filter(assignments::revoked_at.is_null())
        .select(assignments::subscription_id)
        .distinct()
        .load::<i64>(conn)?
        .into_iter()
        .collect();
    ids.extend(
        assignment_seats::table
            .filter(assignment_seats::uai.eq(uai.as_str()))
            .filter(assignment_seats::status.ne(RELEASED))
            .select(assignment_seats::subscription_id)
            .distinct()
            .load::<i64>(conn)?,
    );
    Ok(ids)
}

fn sync_live(
    conn: &mut AnyConnection,
    author: &Author<'_>,
    ent_id: &str,
    subscription_id: i64,
    uai: &Uai,
) -> Result<SeatChanges, StoreError> {
    let Some(sub) = ledger::find_subscription(conn, subscription_id, uai)? else { return Ok(SeatChanges::default()) };
    if sub.assignment_type != AssignmentType::Individual {
        return Ok(SeatChanges::default());
    }
    // Nobody is strict here, so the only possible failure is the database's.
    sync(conn, author, ent_id, &sub, uai, &Strict::default(), "affectation retirée").map_err(|e| match e {
        LedgerError::Store(e) => e,
        other => StoreError::Corrupt(format!("reconciling subscription {subscription_id} in {uai}: {other}")),
    })
}
