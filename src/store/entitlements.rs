//! Loads the facts entitlement resolution needs and hands them to `domain::entitlement`.
//!
//! The hot path of the médiacentre listing and of sign-on, so it is built for speed: two
//! statements per school (who the person is there; what grants them access), each with a fixed
//! shape the connection keeps prepared, run on the backend's own connection, and school-wide
//! access read from `school_wide_access` (kept by triggers) rather than from every subscription
//! covering the school.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::assignments::ACTIVE;
use super::schema::{assignment_seats, establishments, person_profiles, persons, school_wide_access, subscriptions};
use super::{AnyConnection, StoreError};
use crate::domain::entitlement::{
    AllSchools, Clock, Entitlements, Resolution, SchoolWideFact, SeatFact, Term, granted_resources,
};
use crate::domain::{Profile, Public, Uai};

/// What `(ent_id, gar_id)` may open in school `uai` at `clock.now`, and through which subscriptions.
pub fn resolve(
    conn: &mut AnyConnection,
    ent_id: &str,
    gar_id: &str,
    uai: &Uai,
    clock: Clock,
) -> Result<Resolution, StoreError> {
    // Owned binds: PostgreSQL's native `load` wants a query that borrows nothing.
    let (school, ent, person) = (uai.to_string(), ent_id.to_owned(), gar_id.to_owned());
    // One row per profile of the person in the school; the school column is NULL when the school is
    // unknown or another ENT project's, the profile NULL when the person has none there.
    let query = persons::table
        .left_join(
            establishments::table
                .on(establishments::uai.eq(school.clone()).and(establishments::ent_id.eq(persons::ent_id))),
        )
        .left_join(
            person_profiles::table.on(person_profiles::person_id.eq(persons::id).and(person_profiles::uai.eq(school))),
        )
        .filter(persons::ent_id.eq(ent))
        .filter(persons::gar_id.eq(person))
        .filter(persons::removed_at.is_null())
        .select((persons::id, establishments::uai.nullable(), person_profiles::profile.nullable()));
    let rows: Vec<(i64, Option<String>, Option<String>)> = load_native!(conn, query)?;
    let Some((person_id, known_school, _)) = rows.first().cloned() else { return Ok(Resolution::UnknownPerson) };
    if known_school.is_none() {
        return Ok(Resolution::UnknownSchool);
    }
    let profiles = sorted(rows.iter().filter_map(|(_, _, code)| Profile::parse(code.as_deref()?).ok()).collect());
    if profiles.is_empty() {
        return Ok(Resolution::NotInSchool);
    }
    Ok(Resolution::Granted(entitlements_in(conn, person_id, uai, profiles, clock)?))
}

/// What `(ent_id, gar_id)` may open in each school of the ENT project where they hold a profile.
pub fn resolve_all(
    conn: &mut AnyConnection,
    ent_id: &str,
    gar_id: &str,
    clock: Clock,
) -> Result<AllSchools, StoreError> {
    let query = persons::table
        .filter(persons::ent_id.eq(ent_id.to_owned()))
        .filter(persons::gar_id.eq(gar_id.to_owned()))
        .filter(persons::removed_at.is_null())
        .select(persons::id);
    let found: Vec<i64> = load_native!(conn, query)?;
    let Some(&person_id) = found.first() else { return Ok(AllSchools::UnknownPerson) };
    // Profiles in schools of this ENT project only.
    let query = person_profiles::table
        .inner_join(establishments::table)
        .filter(person_profiles::person_id.eq(person_id))
        .filter(establishments::ent_id.eq(ent_id.to_owned()))
        .select((person_profiles::uai, person_profiles::profile));
    let rows: Vec<(String, String)> = load_native!(conn, query)?;
    let mut schools: BTreeMap<Uai, Vec<Profile>> = BTreeMap::new();
    for (uai, code) in rows {
        if let (Ok(uai), Ok(profile)) = (Uai::parse(&uai), Profile::parse(&code)) {
            schools.entry(uai).or_default().push(profile);
        }
    }
    let mut found = Vec::with_capacity(schools.len());
    for (uai, profiles) in schools {
        let entitlements = entitlements_in(conn, person_id, &uai, sorted(profiles), clock)?;
        found.push((uai, entitlements));
    }
    Ok(AllSchools::Schools { schools: found })
}

fn sorted(mut profiles: Vec<Profile>) -> Vec<Profile> {
    profiles.sort();
    profiles.dedup();
    profiles
}

/// The columns of a `GrantRow`, ending with `how`.
macro_rules! grant_columns {
    ($how:expr) => {
        (
            subscriptions::id,
            subscriptions::resource_id,
            subscriptions::valid_from,
            subscriptions::valid_until,
            subscriptions::end_school_year,
            subscriptions::deleted_at,
            $how,
        )
    };
}

/// (subscription id, resource id, valid_from, valid_until, end_school_year, deleted_at, how):
/// `how` is the seat status (`ACTIVE`) for a seat, the public for school-wide access.
type GrantRow = (i64, String, NaiveDateTime, Option<NaiveDateTime>, Option<String>, Option<NaiveDateTime>, String);

/// Entitlements of one person in one school where they hold `profiles`.
fn entitlements_in(
    conn: &mut AnyConnection,
    person_id: i64,
    uai: &Uai,
    profiles: Vec<Profile>,
    clock: Clock,
) -> Result<Entitlements, StoreError> {
    let school = uai.to_string();
    // The person's publics in four fixed slots rather than `IN (…)`: a statement whose bind count
    // varies is prepared again on every call, this one stays prepared.
    let mut publics = Public::ALL
        .into_iter()
        .filter(|public| profiles.iter().any(|profile| profile.public() == *public))
        .map(Public::code);
    let first = publics.next().unwrap_or_default();
    let mut slots = [first; 4];
    for (slot, public) in slots.iter_mut().skip(1).zip(publics) {
        *slot = public;
    }
    let [p1, p2, p3, p4] = slots;

    let seats = assignment_seats::table
        .inner_join(subscriptions::table)
        .filter(assignment_seats::person_id.eq(person_id))
        .filter(assignment_seats::uai.eq(school.clone()))
        .filter(assignment_seats::status.eq(ACTIVE))
        .select(grant_columns!(assignment_seats::status));
    // `school_wide_access` already leaves out the publics a manager switched off.
    let school_wide = school_wide_access::table
        .inner_join(subscriptions::table)
        .filter(school_wide_access::uai.eq(school))
        .filter(
            school_wide_access::public
                .eq(p1)
                .or(school_wide_access::public.eq(p2))
                .or(school_wide_access::public.eq(p3))
                .or(school_wide_access::public.eq(p4)),
        )
        .select(grant_columns!(school_wide_access::public));
    let rows: Vec<GrantRow> = load_native!(conn, seats.union_all(school_wide))?;

    let (mut seat_facts, mut school_wide_facts) = (Vec::new(), Vec::new());
    for (subscription_id, resource_id, from, until, year, deleted, how) in rows {
        let term = Term::new(from, until, year.as_deref(), deleted);
        if how == ACTIVE {
            seat_facts.push(SeatFact { subscription_id, resource_id, term });
        } else if let Ok(public) = Public::parse(&how) {
            // One fact per (subscription, public): `granted_resources` merges a person's two matches.
            school_wide_facts.push(SchoolWideFact { subscription_id, resource_id, term, publics: vec![public] });
        }
    }
    let resources = granted_resources(&profiles, &seat_facts, &school_wide_facts, &clock);
    Ok(Entitlements { person_id, profiles, resources })
}
