//! The subscriptions of one school as its assignment console shows them: whether each is in force,
//! its seat counters, and what the school's assignment managers must be warned about.
//!
//! A subscription appears here as soon as the distributor's create commits (nodes share the
//! database, so there is nothing to propagate).

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use super::schema::{licence_pools, subscription_establishments, subscriptions};
use super::subscriptions::{StoredSubscription, load};
use super::{AnyConnection, StoreError};

/// Where a subscription stands at a given time (README, "Licence rules").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Before `debutValidite`: shown, grants nothing yet.
    NotYet,
    /// Between `debutValidite` and its end: grants access.
    InForce,
    /// After `finValidite` or the end of `anneeFinValidite`: grants nothing.
    Ended,
    /// Deleted by its distributor: takes no new seat; what it gave lasts until `grace_ends`.
    Deleted { grace_ends: NaiveDateTime },
}

/// One seat counter of a subscription in the school.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counter {
    /// `ELEVE`, `ENSEIGNANT`, `DOCUMENTALISTE`, `AUTRE PERSONNEL` or `GLOBAL`.
    pub pool: String,
    /// None for ILLIMITE.
    pub total: Option<i64>,
    pub used: i64,
}

impl Counter {
    /// More seats in use than the total: the distributor lowered or removed the count. Nobody lost
    /// access, but no new seat is given until the managers withdraw enough.
    pub fn over_allocated(&self) -> bool {
        self.total.is_some_and(|total| self.used > total)
    }
}

/// A subscription of the school with its standing and counters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchoolSubscription {
    pub stored: StoredSubscription,
    pub standing: Standing,
    pub counters: Vec<Counter>,
}

impl SchoolSubscription {
    /// Whether the school's assignment managers must be warned: a counter over-allocated, or the
    /// subscription deleted and in its grace period.
    pub fn needs_attention(&self) -> bool {
        matches!(self.standing, Standing::Deleted { .. }) || self.counters.iter().any(Counter::over_allocated)
    }
}

/// The school's live subscriptions, and those deleted less than `grace` before `now`, by id.
pub fn school_subscriptions(
    conn: &mut AnyConnection,
    uai: &str,
    now: NaiveDateTime,
    grace: TimeDelta,
) -> Result<Vec<SchoolSubscription>, StoreError> {
    let ids: Vec<i64> = subscriptions::table
        .filter(
            subscriptions::id.eq_any(
                subscription_establishments::table
                    .filter(subscription_establishments::uai.eq(uai.to_owned()))
                    .select(subscription_establishments::subscription_id),
            ),
        )
        .filter(subscriptions::deleted_at.is_null().or(subscriptions::deleted_at.gt(now - grace)))
        .select(subscriptions::id)
        .order(subscriptions::id)
        .load(conn)?;
    let counters: Vec<(i64, String, Option<i64>, i64)> = licence_pools::table
        .filter(licence_pools::subscription_id.eq_any(&ids))
        .filter(licence_pools::uai.eq(uai.to_owned()))
        .select((licence_pools::subscription_id, licence_pools::public, licence_pools::total, licence_pools::used))
        .order((licence_pools::subscription_id, licence_pools::public))
        .load(conn)?;
    Ok(load(conn, &ids)?
        .into_iter()
        .map(|stored| {
            let sub = &stored.subscription;
            let standing = match stored.deleted_at {
                Some(deleted_at) => Standing::Deleted { grace_ends: deleted_at + grace },
                None if now < sub.valid_from => Standing::NotYet,
                None if sub.is_valid_at(now) => Standing::InForce,
                None => Standing::Ended,
            };
            let counters = counters
                .iter()
                .filter(|(id, ..)| *id == stored.id)
                .map(|(_, pool, total, used)| Counter { pool: pool.clone(), total: *total, used: *used })
                .collect();
            SchoolSubscription { stored, standing, counters }
        })
        .collect())
}
