//! Giving an INDIV subscription to a population, and the dry run that shows what it would use.

use std::collections::{BTreeMap, HashMap};

use diesel::Connection;
use serde::Serialize;
use serde_json::json;

use super::author::Author;
use super::error::LedgerError;
use super::facts::{append_about, audit_target, history_target, individual, school_ent};
use super::sync::{SeatChanges, Strict, sync};
use crate::domain::Uai;
use crate::domain::assignment::AssignmentTarget;
use crate::domain::audit::{AuditEvent, AuditKind};
use crate::domain::ledger::{PoolCount, pool_of, seat_public};
use crate::domain::licence::PoolPublic;
use crate::store::assignments::{self as ledger, Member, SubscriptionFacts};
use crate::store::{AnyConnection, audit, write_transaction};

/// What an assignment did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Assigned {
    pub assignment_id: i64,
    pub history_id: i64,
    pub changes: SeatChanges,
}

/// The reason written on seats an operation withdraws.
pub(crate) const WITHDRAWN_BY_MANAGER: &str = "retirée par le responsable d'affectation";

/// Gives subscription `subscription_id` to `target` in school `uai`: every person of the target
/// whose public the subscription licenses takes a seat, or nothing happens (no licence left).
/// The target stays live: people joining it later get seats while seats remain.
pub fn assign(
    conn: &mut AnyConnection,
    author: &Author<'_>,
    uai: &Uai,
    subscription_id: i64,
    target: AssignmentTarget,
) -> Result<Assigned, LedgerError> {
    let target = target.normalized()?;
    write_transaction(conn, |conn| {
        audit::lock_chain(conn)?;
        let sub = open_individual(conn, author, subscription_id, uai)?;
        let members = check_target(conn, &sub, uai, &target)?;
        if let Some(same) = ledger::live_assignments(conn, sub.id, uai)?.into_iter().find(|a| a.target == target) {
            return Err(LedgerError::AlreadyAssigned { assignment: same.id, target });
        }
        let ent_id = school_ent(conn, uai)?;
        let history_id = ledger::insert_history(
            conn,
            uai,
            Some(sub.id),
            None,
            "ASSIGN",
            author.actor.as_str(),
            &json!({}),
            author.now,
        )?;
        let assignment_id = ledger::insert_assignment(conn, sub.id, uai, &target, &author.name, author.now)?;
        let changes =
            sync(conn, author, &ent_id, &sub, uai, &Strict::assignments([assignment_id]), WITHDRAWN_BY_MANAGER)?;
        let details = json!({ "assignment": assignment_id, "target": history_target(&target), "changes": changes });
        ledger::set_history_details(conn, history_id, Some(assignment_id), &details)?;
        let event = AuditEvent::new(
            AuditKind::AssignmentCreated,
            author.actor.clone(),
            json!({
                "subscription": sub.id,
                "assignment": assignment_id,
                "history": history_id,
                "target": audit_target(&target),
                "members": members.len(),
                "granted": changes.granted,
            }),
        );
        append_about(conn, author, event, &ent_id, uai, &target)?;
        tracing::info!(uai = %uai, subscription = sub.id, assignment = assignment_id, granted = changes.granted, "assigned");
        Ok(Assigned { assignment_id, history_id, changes })
    })
}

/// An INDIV subscription of the school that still takes new seats.
pub(crate) fn open_individual(
    conn: &mut AnyConnection,
    author: &Author<'_>,
    subscription_id: i64,
    uai: &Uai,
) -> Result<SubscriptionFacts, LedgerError> {
    let sub = individual(conn, subscription_id, uai)?;
    if !sub.term.takes_new_seats(author.now) {
        return Err(LedgerError::Closed(sub.id));
    }
    Ok(sub)
}

/// The target's members; a person the subscription has no licence for is refused outright.
pub(crate) fn check_target(
    conn: &mut AnyConnection,
    sub: &SubscriptionFacts,
    uai: &Uai,
    target: &AssignmentTarget,
) -> Result<Vec<Member>, LedgerError> {
    let members = ledger::members(conn, uai, target)?.ok_or_else(|| LedgerError::UnknownTarget(target.clone()))?;
    if matches!(target, AssignmentTarget::Person(_))
        && members.iter().all(|m| seat_public(&m.profiles, &sub.licensed_publics()).is_none())
    {
        return Err(LedgerError::NotLicensed(sub.id));
    }
    Ok(members)
}

/// One counter in a preview.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolPreview {
    pub pool: PoolPublic,
    pub total: Option<i64>,
    pub used: i64,
    /// Seats this assignment would take.
    pub needed: i64,
    /// Seats left afterwards (None = unlimited; negative = what is missing).
    pub left_after: Option<i64>,
}

/// What an assignment would do, without doing it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Preview {
    /// People the target covers in the school.
    pub members: usize,
    /// Of them, people whose public the subscription licenses.
    pub eligible: usize,
    /// Of the eligible, people who already hold a seat of this subscription.
    pub already: usize,
    /// Of the eligible, people on the waiting list (they would get a seat).
    pub waiting: usize,
    /// Seats it would take.
    pub uses: i64,
    pub pools: Vec<PoolPreview>,
    /// Whether every counter has enough seats.
    pub fits: bool,
    /// An identical live assignment exists.
    pub already_assigned: Option<i64>,
}

impl Preview {
    /// "utilise 27 licences, il en restera 3 ; 2 personnes l'ont déjà".
    pub fn summary_fr(&self) -> String {
        let plural = |n: i64, one: &str, many: &str| if n == 1 { one.to_owned() } else { many.to_owned() };
        let mut text = format!("utilise {} {}", self.uses, plural(self.uses, "licence", "licences"));
        // What remains on the limited counters this assignment draws from.
        let limited: Vec<i64> =
            self.pools.iter().filter(|pool| pool.needed > 0).filter_map(|pool| pool.left_after).collect();
        if limited.is_empty() {
            text.push_str(", sans limite");
        } else {
            text.push_str(&format!(", il en restera {}", limited.iter().map(|left| left.max(&0)).sum::<i64>()));
        }
        if self.already > 0 {
            let already = self.already as i64;
            text.push_str(&format!(" ; {already} {} déjà", plural(already, "personne l'a", "personnes l'ont")));
        }
        if !self.fits {
            text.push_str(" — pas assez de licences");
        }
        text
    }
}

/// The dry run of `assign`: counts only, nothing written.
pub fn preview(
    conn: &mut AnyConnection,
    author: &Author<'_>,
    uai: &Uai,
    subscription_id: i64,
    target: AssignmentTarget,
) -> Result<Preview, LedgerError> {
    let target = target.normalized()?;
    // One read transaction, so counters and seats are read at the same moment.
    conn.transaction(|conn| {
        let sub = open_individual(conn, author, subscription_id, uai)?;
        let members = check_target(conn, &sub, uai, &target)?;
        let licensed = sub.licensed_publics();
        let seats: HashMap<i64, bool> =
            ledger::held_seats(conn, sub.id, uai)?.into_iter().map(|seat| (seat.person_id, seat.active)).collect();
        let pools = sub.pool_publics();
        let (mut eligible, mut already, mut waiting) = (0, 0, 0);
        let mut needed: BTreeMap<PoolPublic, i64> = BTreeMap::new();
        for member in &members {
            let Some(public) = seat_public(&member.profiles, &licensed) else { continue };
            eligible += 1;
            match seats.get(&member.person_id) {
                Some(true) => already += 1,
                Some(false) => {
                    waiting += 1;
                    *needed.entry(pool_of(public, &pools)).or_default() += 1;
                }
                None => *needed.entry(pool_of(public, &pools)).or_default() += 1,
            }
        }
        let pools: Vec<PoolPreview> = sub
            .pools
            .iter()
            .map(|(pool, PoolCount { total, used })| {
                let n = needed.get(pool).copied().unwrap_or(0);
                PoolPreview {
                    pool: *pool,
                    total: *total,
                    used: *used,
                    needed: n,
                    left_after: total.map(|t| t - used - n),
                }
            })
            .collect();
        let fits = sub.pools.iter().all(|(pool, count)| count.fits(needed.get(pool).copied().unwrap_or(0)));
        let already_assigned =
            ledger::live_assignments(conn, sub.id, uai)?.into_iter().find(|a| a.target == target).map(|a| a.id);
        Ok(Preview {
            members: members.len(),
            eligible,
            already,
            waiting,
            uses: needed.values().sum(),
            pools,
            fits,
            already_assigned,
        })
    })
}
