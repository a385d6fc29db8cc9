//! Assignments (affectations) and the seats they hold in the licence pools.

use std::collections::{BTreeMap, HashSet};

use chrono::Utc;
use diesel::prelude::*;

use super::schema::{
    assignment_seats, assignments, establishments, licence_pools, person_groups, person_profiles, persons,
    school_groups, subscription_establishments, subscription_publics, subscriptions,
};
use super::{AnyConnection, StoreError, write_transaction};
use crate::domain::assignment::AssignmentTarget;
use crate::domain::directory::GroupStatus;
use crate::domain::licence::PoolPublic;
use crate::domain::subscription::AssignmentType;
use crate::domain::{Profile, Public, Uai};

/// Why an assignment was refused. Every refusal leaves the database as it was.
#[derive(Debug, thiserror::Error)]
pub enum AssignError {
    #[error("subscription {0} does not exist or was deleted")]
    UnknownSubscription(i64),
    #[error("subscription {subscription} does not cover school {uai}")]
    NotInSchool { subscription: i64, uai: Uai },
    #[error("an ETABL subscription is given to a profile, not to {0}")]
    SchoolWideTarget(AssignmentTarget),
    #[error("subscription {subscription} is not for {public}")]
    PublicNotSubscribed { subscription: i64, public: Public },
    #[error("{target} not found in school {uai}")]
    UnknownTarget { target: AssignmentTarget, uai: Uai },
    #[error("no licence left for {pool} in school {uai} (subscription {subscription})")]
    NoLicenceLeft { subscription: i64, uai: Uai, pool: PoolPublic },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for AssignError {
    fn from(e: diesel::result::Error) -> Self {
        AssignError::Store(StoreError::Query(e))
    }
}

/// A recorded assignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Assigned {
    pub id: i64,
    /// Seats taken by this assignment (people who already held one are not counted twice).
    pub seats: usize,
}

/// Gives a subscription to `target` in one school, on behalf of the manager `created_by`.
///
/// INDIV: every person of the target whose profile in the school matches one of the subscription's
/// publics takes a seat, counted in the school's pool for that public (or its GLOBAL pool); if any
/// pool runs out the whole assignment is refused. ETABL: the assignment is recorded for a profile and
/// takes no seats. One transaction.
pub fn assign(
    conn: &mut AnyConnection,
    subscription_id: i64,
    uai: &Uai,
    target: &AssignmentTarget,
    created_by: &str,
) -> Result<Assigned, AssignError> {
    write_transaction(conn, |conn| {
        let (kind, global): (String, Option<i64>) = subscriptions::table
            .find(subscription_id)
            .filter(subscriptions::deleted_at.is_null())
            .select((subscriptions::assignment_type, subscriptions::licences_global))
            .first(conn)
            .optional()?
            .ok_or(AssignError::UnknownSubscription(subscription_id))?;
        let covered: bool = diesel::select(diesel::dsl::exists(
            subscription_establishments::table
                .filter(subscription_establishments::subscription_id.eq(subscription_id))
                .filter(subscription_establishments::uai.eq(uai.as_str())),
        ))
        .get_result(conn)?;
        if !covered {
            return Err(AssignError::NotInSchool { subscription: subscription_id, uai: uai.clone() });
        }
        let publics: Vec<Public> = subscription_publics::table
            .filter(subscription_publics::subscription_id.eq(subscription_id))
            .select(subscription_publics::public)
            .load::<String>(conn)?
            .iter()
            .filter_map(|code| Public::parse(code).ok())
            .collect();

        if kind == AssignmentType::Establishment.code() {
            let AssignmentTarget::Profile(profile) = target else {
                return Err(AssignError::SchoolWideTarget(target.clone()));
            };
            if !publics.contains(&profile.public()) {
                return Err(AssignError::PublicNotSubscribed {
                    subscription: subscription_id,
                    public: profile.public(),
                });
            }
            let id = insert_assignment(conn, subscription_id, uai, target, created_by)?;
            return Ok(Assigned { id, seats: 0 });
        }

        let members = members(conn, uai, target)?;
        let id = insert_assignment(conn, subscription_id, uai, target, created_by)?;
        let seated: HashSet<i64> = assignment_seats::table
            .filter(assignment_seats::subscription_id.eq(subscription_id))
            .filter(assignment_seats::uai.eq(uai.as_str()))
            .filter(assignment_seats::status.ne("RELEASED"))
            .select(assignment_seats::person_id)
            .load::<i64>(conn)?
            .into_iter()
            .collect();
        let now = Utc::now().naive_utc();
        let mut seats = 0;
        for (person_id, profiles) in members {
            // The first of the person's profiles (pupil, teacher, librarian, other) the subscription is for.
            let Some(public) = profiles.iter().map(|p| p.public()).find(|public| publics.contains(public)) else {
                continue;
            };
            if seated.contains(&person_id) {
                continue;
            }
            let pool = if global.is_some() { PoolPublic::Global } else { PoolPublic::Public(public) };
            take_seat(conn, subscription_id, uai, pool)?;
            diesel::insert_into(assignment_seats::table)
                .values((
                    assignment_seats::assignment_id.eq(id),
                    assignment_seats::subscription_id.eq(subscription_id),
                    assignment_seats::uai.eq(uai.as_str()),
                    assignment_seats::person_id.eq(person_id),
                    assignment_seats::public.eq(public.code()),
                    assignment_seats::status.eq("ACTIVE"),
                    assignment_seats::granted_at.eq(now),
                ))
                .execute(conn)?;
            seats += 1;
        }
        Ok(Assigned { id, seats })
    })
}

fn insert_assignment(
    conn: &mut AnyConnection,
    subscription_id: i64,
    uai: &Uai,
    target: &AssignmentTarget,
    created_by: &str,
) -> QueryResult<i64> {
    diesel::insert_into(assignments::table)
        .values((
            assignments::subscription_id.eq(subscription_id),
            assignments::uai.eq(uai.as_str()),
            assignments::target_kind.eq(target.kind()),
            assignments::target_ref.eq(target.reference()),
            assignments::created_by.eq(created_by),
            assignments::created_at.eq(Utc::now().naive_utc()),
        ))
        .returning(assignments::id)
        .get_result(conn)
}

/// Takes one seat from a pool, atomically: the row only changes while seats remain, so two nodes
/// assigning at once cannot overshoot the total.
fn take_seat(conn: &mut AnyConnection, subscription_id: i64, uai: &Uai, pool: PoolPublic) -> Result<(), AssignError> {
    let updated = diesel::update(
        licence_pools::table
            .filter(licence_pools::subscription_id.eq(subscription_id))
            .filter(licence_pools::uai.eq(uai.as_str()))
            .filter(licence_pools::public.eq(pool.code()))
            .filter(licence_pools::total.is_null().or(licence_pools::used.nullable().lt(licence_pools::total))),
    )
    .set(licence_pools::used.eq(licence_pools::used + 1))
    .execute(conn)?;
    if updated == 1 {
        Ok(())
    } else {
        Err(AssignError::NoLicenceLeft { subscription: subscription_id, uai: uai.clone(), pool })
    }
}

/// The current (not removed) people a target covers in a school, with their profiles there.
fn members(
    conn: &mut AnyConnection,
    uai: &Uai,
    target: &AssignmentTarget,
) -> Result<BTreeMap<i64, Vec<Profile>>, AssignError> {
    let not_found = || AssignError::UnknownTarget { target: target.clone(), uai: uai.clone() };
    let person_ids: Vec<i64> = match target {
        AssignmentTarget::Person(gar_id) => {
            let ent = establishments::table.find(uai.as_str()).select(establishments::ent_id);
            persons::table
                .filter(persons::ent_id.eq_any(ent))
                .filter(persons::gar_id.eq(gar_id))
                .filter(persons::removed_at.is_null())
                .select(persons::id)
                .load(conn)?
        }
        AssignmentTarget::Division(code) | AssignmentTarget::Group(code) => {
            let status = if matches!(target, AssignmentTarget::Division(_)) {
                GroupStatus::Division
            } else {
                GroupStatus::Group
            };
            let group_id: i64 = school_groups::table
                .filter(school_groups::uai.eq(uai.as_str()))
                .filter(school_groups::code.eq(code))
                .filter(school_groups::status.eq(status.code()))
                .select(school_groups::id)
                .first(conn)
                .optional()?
                .ok_or_else(not_found)?;
            person_groups::table
                .inner_join(persons::table)
                .filter(person_groups::group_id.eq(group_id))
                .filter(persons::removed_at.is_null())
                .select(persons::id)
                .load(conn)?
        }
        AssignmentTarget::Profile(profile) => person_profiles::table
            .inner_join(persons::table)
            .filter(person_profiles::uai.eq(uai.as_str()))
            .filter(person_profiles::profile.eq(profile.code()))
            .filter(persons::removed_at.is_null())
            .select(persons::id)
            .load(conn)?,
    };
    let mut members: BTreeMap<i64, Vec<Profile>> = BTreeMap::new();
    // Bounded batches: a whole-school target can hold thousands of ids.
    for chunk in person_ids.chunks(10_000) {
        let rows: Vec<(i64, String)> = person_profiles::table
            .filter(person_profiles::uai.eq(uai.as_str()))
            .filter(person_profiles::person_id.eq_any(chunk))
            .select((person_profiles::person_id, person_profiles::profile))
            .load(conn)?;
        for (person_id, code) in rows {
            if let Ok(profile) = Profile::parse(&code) {
                members.entry(person_id).or_default().push(profile);
            }
        }
    }
    for profiles in members.values_mut() {
        profiles.sort();
    }
    if matches!(target, AssignmentTarget::Person(_)) && members.is_empty() {
        return Err(not_found());
    }
    Ok(members)
}
