//! Loads the facts entitlement resolution needs and hands them to `domain::entitlement`.
//!
//! The hot path of the médiacentre listing and of sign-on: a handful of indexed queries per call
//! (person, school, profiles, seats, school-wide subscriptions), each a fixed statement that the
//! connection keeps prepared.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{
    assignment_seats, establishments, person_profiles, persons, school_wide_opt_outs, subscription_establishments,
    subscription_publics, subscriptions,
};
use super::{AnyConnection, StoreError};
use crate::domain::entitlement::{
    AllSchools, Clock, Entitlements, Resolution, SchoolWideFact, SeatFact, Term, granted_resources,
};
use crate::domain::subscription::AssignmentType;
use crate::domain::{Profile, Public, Uai};

/// What `(ent_id, gar_id)` may open in school `uai` at `clock.now`, and through which subscriptions.
pub fn resolve(
    conn: &mut AnyConnection,
    ent_id: &str,
    gar_id: &str,
    uai: &Uai,
    clock: Clock,
) -> Result<Resolution, StoreError> {
    let Some(person_id) = find_person(conn, ent_id, gar_id)? else { return Ok(Resolution::UnknownPerson) };
    let school_ent: Option<String> =
        establishments::table.find(uai.as_str()).select(establishments::ent_id).first(conn).optional()?;
    if school_ent.as_deref() != Some(ent_id) {
        return Ok(Resolution::UnknownSchool);
    }
    let profiles: Vec<Profile> = person_profiles::table
        .filter(person_profiles::person_id.eq(person_id))
        .filter(person_profiles::uai.eq(uai.as_str()))
        .select(person_profiles::profile)
        .load::<String>(conn)?
        .iter()
        .filter_map(|code| Profile::parse(code).ok())
        .collect();
    if profiles.is_empty() {
        return Ok(Resolution::NotInSchool);
    }
    let mut found = entitlements_in(conn, person_id, BTreeMap::from([(uai.clone(), sorted(profiles))]), clock)?;
    Ok(found.pop().map_or(Resolution::NotInSchool, |(_, entitlements)| Resolution::Granted(entitlements)))
}

/// What `(ent_id, gar_id)` may open in each school of the ENT project where they hold a profile.
pub fn resolve_all(
    conn: &mut AnyConnection,
    ent_id: &str,
    gar_id: &str,
    clock: Clock,
) -> Result<AllSchools, StoreError> {
    let Some(person_id) = find_person(conn, ent_id, gar_id)? else { return Ok(AllSchools::UnknownPerson) };
    let rows: Vec<(String, String)> = person_profiles::table
        .inner_join(establishments::table)
        .filter(person_profiles::person_id.eq(person_id))
        .filter(establishments::ent_id.eq(ent_id))
        .select((person_profiles::uai, person_profiles::profile))
        .load(conn)?;
    let mut schools: BTreeMap<Uai, Vec<Profile>> = BTreeMap::new();
    for (uai, code) in rows {
        if let (Ok(uai), Ok(profile)) = (Uai::parse(&uai), Profile::parse(&code)) {
            schools.entry(uai).or_default().push(profile);
        }
    }
    for profiles in schools.values_mut() {
        *profiles = sorted(std::mem::take(profiles));
    }
    Ok(AllSchools::Schools { schools: entitlements_in(conn, person_id, schools, clock)? })
}

fn sorted(mut profiles: Vec<Profile>) -> Vec<Profile> {
    profiles.sort();
    profiles.dedup();
    profiles
}

fn find_person(conn: &mut AnyConnection, ent_id: &str, gar_id: &str) -> Result<Option<i64>, StoreError> {
    Ok(persons::table
        .filter(persons::ent_id.eq(ent_id))
        .filter(persons::gar_id.eq(gar_id))
        .filter(persons::removed_at.is_null())
        .select(persons::id)
        .first(conn)
        .optional()?)
}

/// (subscription id, resource id, valid_from, valid_until, end_school_year, deleted_at).
type TermRow = (i64, String, NaiveDateTime, Option<NaiveDateTime>, Option<String>, Option<NaiveDateTime>);

fn term(row: &TermRow) -> Term {
    Term::new(row.2, row.3, row.4.as_deref(), row.5)
}

/// Entitlements of one person in the given schools (UAI → their profiles there).
fn entitlements_in(
    conn: &mut AnyConnection,
    person_id: i64,
    schools: BTreeMap<Uai, Vec<Profile>>,
    clock: Clock,
) -> Result<Vec<(Uai, Entitlements)>, StoreError> {
    let mut found = Vec::with_capacity(schools.len());
    for (uai, profiles) in schools {
        let school = uai.as_str();
        let seats: Vec<TermRow> = assignment_seats::table
            .inner_join(subscriptions::table)
            .filter(assignment_seats::person_id.eq(person_id))
            .filter(assignment_seats::uai.eq(school))
            .filter(assignment_seats::status.eq(super::assignments::ACTIVE))
            .select((
                subscriptions::id,
                subscriptions::resource_id,
                subscriptions::valid_from,
                subscriptions::valid_until,
                subscriptions::end_school_year,
                subscriptions::deleted_at,
            ))
            .load(conn)?;
        let seats: Vec<SeatFact> = seats
            .into_iter()
            .map(|row| SeatFact { subscription_id: row.0, term: term(&row), resource_id: row.1 })
            .collect();

        // Only the person's publics are fetched, and a public a manager switched off is left out in SQL.
        let publics: Vec<&str> = Public::ALL
            .into_iter()
            .filter(|public| profiles.iter().any(|profile| profile.public() == *public))
            .map(Public::code)
            .collect();
        let switched_off = school_wide_opt_outs::table
            .filter(school_wide_opt_outs::subscription_id.eq(subscriptions::id))
            .filter(school_wide_opt_outs::uai.eq(school))
            .filter(school_wide_opt_outs::public.eq(subscription_publics::public));
        let school_wide: Vec<(TermRow, String)> = subscription_establishments::table
            .inner_join(subscriptions::table.inner_join(subscription_publics::table))
            .filter(subscription_establishments::uai.eq(school))
            .filter(subscriptions::assignment_type.eq(AssignmentType::Establishment.code()))
            .filter(subscription_publics::public.eq_any(publics))
            .filter(diesel::dsl::not(diesel::dsl::exists(switched_off)))
            .select((
                (
                    subscriptions::id,
                    subscriptions::resource_id,
                    subscriptions::valid_from,
                    subscriptions::valid_until,
                    subscriptions::end_school_year,
                    subscriptions::deleted_at,
                ),
                subscription_publics::public,
            ))
            .load(conn)?;
        // One fact per (subscription, public) row: a person with two publics may match twice, and
        // `granted_resources` merges the grants.
        let facts: Vec<SchoolWideFact> = school_wide
            .into_iter()
            .filter_map(|(row, public)| {
                let public = Public::parse(&public).ok()?;
                Some(SchoolWideFact {
                    subscription_id: row.0,
                    term: term(&row),
                    resource_id: row.1,
                    publics: vec![public],
                })
            })
            .collect();
        let resources = granted_resources(&profiles, &seats, &facts, &clock);
        found.push((uai, Entitlements { person_id, profiles, resources }));
    }
    Ok(found)
}
