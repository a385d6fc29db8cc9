//! Entitlement resolution: which resources a person may open in a school, read from the licence
//! ledger. The médiacentre listing and the sign-on both ask this module, so they never disagree.
//!
//! This is the médiacentre branch's minimal implementation of the README "Licence rules", with
//! the interface the ledger branch implements in full (`resolve`, `resolve_all`, `Resolution`,
//! `Grant`); the ledger's version replaces this file at merge. Rules applied here:
//! - a subscription grants from `debutValidite` to `finValidite` (or the end of `anneeFinValidite`);
//! - INDIV: the person holds an ACTIVE seat for the subscription in that school;
//! - ETABL: the subscription covers the school and one of the person's publics there (their
//!   profiles, through `Profile::public`) is in its `publicCible`;
//! - a deleted subscription keeps granting for `DELETION_GRACE_DAYS` after its deletion.
//!
//! The listing runs `resolve` on every call: its queries are static and run on the concrete
//! connection (`per_backend!`), so that they stay prepared.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use super::schema::{
    assignment_seats, establishments, person_establishments, person_profiles, persons, subscription_establishments,
    subscription_publics, subscriptions,
};
use super::{AnyConnection, StoreError, per_backend};
use crate::domain::subscription::{AssignmentType, end_of_validity};
use crate::domain::{Profile, Uai};

/// Days a deleted subscription keeps granting: the default of `licences.deletion_grace_days`.
/// (The ledger's implementation reads the configured value.)
pub const DELETION_GRACE_DAYS: i64 = 15;

/// What a person may use in one school.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// No current person with this GARPersonIdentifiant in the ENT project.
    UnknownPerson,
    /// No school with this UAI in the ENT project: unknown, or another project's (not told apart,
    /// so that an ENT learns nothing about other projects).
    UnknownSchool,
    /// The person exists but is not attached to the school (GARPersonEtab).
    NotInSchool,
    /// The resources granted, each once, ordered by resource id; possibly none.
    Granted(Vec<Grant>),
}

/// One resource a person may open, and the subscriptions that grant it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// idRessource.
    pub resource_id: String,
    /// `subscriptions.id` of every subscription granting it, ascending.
    pub subscription_ids: Vec<i64>,
}

/// Resolves what `gar_id` of `ent_id` may use in school `uai` at `now`.
pub fn resolve(
    conn: &mut AnyConnection,
    ent_id: &str,
    gar_id: &str,
    uai: &Uai,
    now: NaiveDateTime,
) -> Result<Resolution, StoreError> {
    let school_known: bool = per_backend!(conn, c => diesel::select(diesel::dsl::exists(
        establishments::table.find(uai.as_str()).filter(establishments::ent_id.eq(ent_id)),
    ))
    .get_result(c))?;
    if !school_known {
        return Ok(Resolution::UnknownSchool);
    }
    // The person, whether attached to the school, and their profiles there: one row per profile.
    let rows: Vec<(i64, bool, Option<String>)> = per_backend!(conn, c => persons::table
        .left_join(
            person_profiles::table
                .on(person_profiles::person_id.eq(persons::id).and(person_profiles::uai.eq(uai.as_str()))),
        )
        .filter(persons::ent_id.eq(ent_id))
        .filter(persons::gar_id.eq(gar_id))
        .filter(persons::removed_at.is_null())
        .select((
            persons::id,
            diesel::dsl::exists(
                person_establishments::table
                    .filter(person_establishments::person_id.eq(persons::id))
                    .filter(person_establishments::uai.eq(uai.as_str())),
            ),
            person_profiles::profile.nullable(),
        ))
        .load(c))?;
    let Some(&(person_id, attached, _)) = rows.first() else {
        return Ok(Resolution::UnknownPerson);
    };
    if !attached {
        return Ok(Resolution::NotInSchool);
    }
    let publics = publics(rows.iter().filter_map(|row| row.2.as_deref()));
    Ok(Resolution::Granted(grants_at(conn, person_id, uai, &publics, now)?))
}

/// Resolves every school of the person, by UAI; `None` when the person is unknown.
pub fn resolve_all(
    conn: &mut AnyConnection,
    ent_id: &str,
    gar_id: &str,
    now: NaiveDateTime,
) -> Result<Option<BTreeMap<Uai, Vec<Grant>>>, StoreError> {
    let person_id: Option<i64> = persons::table
        .filter(persons::ent_id.eq(ent_id))
        .filter(persons::gar_id.eq(gar_id))
        .filter(persons::removed_at.is_null())
        .select(persons::id)
        // Not `first`: SQLite re-prepares a statement whose `LIMIT ?` gets a new binding.
        .get_result(conn)
        .optional()?;
    let Some(person_id) = person_id else {
        return Ok(None);
    };
    // The person's schools (in the project) and profiles there: one row per school and profile.
    let rows: Vec<(String, Option<String>)> = person_establishments::table
        .inner_join(establishments::table)
        .left_join(
            person_profiles::table.on(person_profiles::person_id
                .eq(person_establishments::person_id)
                .and(person_profiles::uai.eq(person_establishments::uai))),
        )
        .filter(person_establishments::person_id.eq(person_id))
        .filter(establishments::ent_id.eq(ent_id))
        .select((person_establishments::uai, person_profiles::profile.nullable()))
        .load(conn)?;
    let mut profiles: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (uai, profile) in rows {
        profiles.entry(uai).or_default().extend(profile);
    }
    let mut all = BTreeMap::new();
    for (uai, codes) in profiles {
        let Ok(uai) = Uai::parse(&uai) else { continue };
        let grants = grants_at(conn, person_id, &uai, &publics(codes.iter().map(String::as_str)), now)?;
        all.insert(uai, grants);
    }
    Ok(Some(all))
}

/// The subscription publics (`publicCible` codes) that profiles count as.
fn publics<'a>(profiles: impl Iterator<Item = &'a str>) -> BTreeSet<&'static str> {
    profiles.filter_map(|code| Profile::parse(code).ok()).map(|profile| profile.public().code()).collect()
}

/// (id, idRessource, debutValidite, finValidite, anneeFinValidite, deleted_at)
type SubscriptionRow = (i64, String, NaiveDateTime, Option<NaiveDateTime>, Option<String>, Option<NaiveDateTime>);

fn grants_at(
    conn: &mut AnyConnection,
    person_id: i64,
    uai: &Uai,
    publics: &BTreeSet<&str>,
    now: NaiveDateTime,
) -> Result<Vec<Grant>, StoreError> {
    let columns = (
        subscriptions::id,
        subscriptions::resource_id,
        subscriptions::valid_from,
        subscriptions::valid_until,
        subscriptions::end_school_year,
        subscriptions::deleted_at,
    );
    // The school's ETABL subscriptions with each of their publics, the publics matched here: a
    // static query SQLite keeps prepared (an `IN` list of publics would be re-prepared each time).
    let school_wide: Vec<(SubscriptionRow, String)> = if publics.is_empty() {
        Vec::new()
    } else {
        per_backend!(conn, c => subscriptions::table
            .inner_join(subscription_establishments::table)
            .inner_join(subscription_publics::table)
            .filter(subscription_establishments::uai.eq(uai.as_str()))
            .filter(subscriptions::assignment_type.eq(AssignmentType::Establishment.code()))
            .select((columns, subscription_publics::public))
            .load(c))?
    };
    let school_wide =
        school_wide.into_iter().filter(|(_, public)| publics.contains(public.as_str())).map(|(row, _)| row);
    let seats: Vec<SubscriptionRow> = per_backend!(conn, c => assignment_seats::table
        .inner_join(subscriptions::table)
        .filter(assignment_seats::person_id.eq(person_id))
        .filter(assignment_seats::uai.eq(uai.as_str()))
        .filter(assignment_seats::status.eq("ACTIVE"))
        .select(columns)
        .load(c))?;

    let mut granted: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    for (id, resource_id, from, until, school_year, deleted_at) in school_wide.chain(seats) {
        let ends = end_of_validity(until, school_year.as_deref());
        let in_force = from <= now && ends.is_some_and(|end| now <= end);
        let within_grace = deleted_at.is_none_or(|deleted| now <= deleted + TimeDelta::days(DELETION_GRACE_DAYS));
        if in_force && within_grace {
            granted.entry(resource_id).or_default().insert(id);
        }
    }
    Ok(granted
        .into_iter()
        .map(|(resource_id, ids)| Grant { resource_id, subscription_ids: ids.into_iter().collect() })
        .collect())
}
