//! What subscriptions consume, per school and public: the distributor's allocation counts
//! (`decompteaffectations`).

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;

use super::schema::{
    assignment_seats, licence_pools, person_profiles, persons, subscription_establishments, subscriptions,
};
use super::subscriptions::{StoredSubscription, load};
use super::{AnyConnection, StoreError};
use crate::domain::subscription::AssignmentType;
use crate::domain::{LicenceCount, Profile, Public};

/// Which subscriptions to count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CountsOf {
    /// One `idAbonnement`.
    Subscription(String),
    /// Every subscription with this `codeProjetRessource`.
    Project(String),
}

/// One line of `decompteaffectations`: a subscription in one school.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllocationCount {
    pub uai: String,
    pub subscription: StoredSubscription,
    /// People given access, per public in `Public::ALL` order (ELEVE, ENSEIGNANT, DOCUMENTALISTE,
    /// AUTRE PERSONNEL). INDIV: seats held. ETABL: people of the school in the targeted publics.
    pub by_public: [i64; 4],
    /// People given access beyond what the subscription grants now: seats above a lowered counter,
    /// people above a numeric ETABL `nbLicenceGlobale`, and everything a deleted subscription
    /// still gives during its grace period.
    pub surplus: i64,
}

/// The allocation counts of `distributor`'s live subscriptions selected by `of`, and of those
/// deleted after `grace_since` (still giving access during their grace period), one line per
/// subscription and school, by idAbonnement, deleted last, then UAI.
pub fn allocation_counts(
    conn: &mut AnyConnection,
    distributor: &str,
    of: &CountsOf,
    grace_since: NaiveDateTime,
) -> Result<Vec<AllocationCount>, StoreError> {
    let mut query = subscriptions::table
        .filter(subscriptions::distributor_id.eq(distributor.to_owned()))
        .filter(subscriptions::deleted_at.is_null().or(subscriptions::deleted_at.gt(grace_since)))
        .select(subscriptions::id)
        .into_boxed();
    query = match of {
        CountsOf::Subscription(id) => query.filter(subscriptions::external_id.eq(id.clone())),
        CountsOf::Project(code) => query.filter(subscriptions::project_code.eq(code.clone())),
    };
    let ids: Vec<i64> = query.load(conn)?;
    let mut found = load(conn, &ids)?;
    found.sort_by(|a, b| {
        (a.deleted_at.is_some(), &a.subscription.id, a.id).cmp(&(b.deleted_at.is_some(), &b.subscription.id, b.id))
    });

    let schools: Vec<(i64, String)> = subscription_establishments::table
        .filter(subscription_establishments::subscription_id.eq_any(&ids))
        .select((subscription_establishments::subscription_id, subscription_establishments::uai))
        .order(subscription_establishments::uai)
        .load(conn)?;
    let seats = seats_by_public(conn, &ids)?;
    let pools = pool_surplus(conn, &ids)?;
    let uais: Vec<&str> = schools.iter().map(|(_, uai)| uai.as_str()).collect();
    let people = people_by_profiles(conn, &uais)?;

    let mut lines = Vec::new();
    for stored in found {
        for (_, uai) in schools.iter().filter(|(id, _)| *id == stored.id) {
            let sub = &stored.subscription;
            let (by_public, surplus) = match sub.assignment_type {
                AssignmentType::Individual => {
                    let by_public = seats.get(&(stored.id, uai.clone())).copied().unwrap_or_default();
                    (by_public, pools.get(&(stored.id, uai.clone())).copied().unwrap_or_default())
                }
                AssignmentType::Establishment => {
                    let by_public = eligible(people.get(uai.as_str()), &sub.publics);
                    let beyond = match sub.licences_global {
                        Some(LicenceCount::Limited(n)) => (by_public.iter().sum::<i64>() - i64::from(n)).max(0),
                        _ => 0,
                    };
                    (by_public, beyond)
                }
            };
            let surplus = if stored.deleted_at.is_some() { by_public.iter().sum() } else { surplus };
            lines.push(AllocationCount { uai: uai.clone(), subscription: stored.clone(), by_public, surplus });
        }
    }
    Ok(lines)
}

fn public_index(public: Public) -> usize {
    Public::ALL.iter().position(|p| *p == public).unwrap_or_default()
}

/// Seats held (ACTIVE), per (subscription, school), per public.
fn seats_by_public(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<HashMap<(i64, String), [i64; 4]>> {
    let rows: Vec<(i64, String, String, i64)> = assignment_seats::table
        .filter(assignment_seats::subscription_id.eq_any(ids))
        .filter(assignment_seats::status.eq("ACTIVE"))
        .group_by((assignment_seats::subscription_id, assignment_seats::uai, assignment_seats::public))
        .select((assignment_seats::subscription_id, assignment_seats::uai, assignment_seats::public, count_star()))
        .load(conn)?;
    let mut seats: HashMap<(i64, String), [i64; 4]> = HashMap::new();
    for (id, uai, public, n) in rows {
        if let Ok(public) = Public::parse(&public) {
            seats.entry((id, uai)).or_default()[public_index(public)] += n;
        }
    }
    Ok(seats)
}

/// Seats in use above the pool totals, per (subscription, school).
fn pool_surplus(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<HashMap<(i64, String), i64>> {
    let rows: Vec<(i64, String, i64, Option<i64>)> = licence_pools::table
        .filter(licence_pools::subscription_id.eq_any(ids))
        .select((licence_pools::subscription_id, licence_pools::uai, licence_pools::used, licence_pools::total))
        .load(conn)?;
    let mut surplus: HashMap<(i64, String), i64> = HashMap::new();
    for (id, uai, used, total) in rows {
        *surplus.entry((id, uai)).or_default() += total.map_or(0, |total| (used - total).max(0));
    }
    Ok(surplus)
}

/// The current people of each school, with their profiles there.
fn people_by_profiles(
    conn: &mut AnyConnection,
    uais: &[&str],
) -> QueryResult<HashMap<String, BTreeMap<i64, Vec<Profile>>>> {
    let rows: Vec<(String, i64, String)> = person_profiles::table
        .inner_join(persons::table)
        .filter(person_profiles::uai.eq_any(uais))
        .filter(persons::removed_at.is_null())
        .select((person_profiles::uai, person_profiles::person_id, person_profiles::profile))
        .load(conn)?;
    let mut people: HashMap<String, BTreeMap<i64, Vec<Profile>>> = HashMap::new();
    for (uai, person, profile) in rows {
        if let Ok(profile) = Profile::parse(&profile) {
            people.entry(uai).or_default().entry(person).or_default().push(profile);
        }
    }
    Ok(people)
}

/// People of a school in `publics`, each counted once under the first of their profiles (in
/// profile order) whose public is targeted, as assignments count them.
fn eligible(people: Option<&BTreeMap<i64, Vec<Profile>>>, publics: &[Public]) -> [i64; 4] {
    let mut counts = [0; 4];
    for profiles in people.into_iter().flat_map(BTreeMap::values) {
        let mut profiles = profiles.clone();
        profiles.sort();
        if let Some(public) = profiles.iter().map(|p| p.public()).find(|public| publics.contains(public)) {
            counts[public_index(public)] += 1;
        }
    }
    counts
}
