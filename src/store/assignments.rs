//! The licence ledger's rows: assignments, the seats they hold, the counters seats are taken from,
//! withdrawals from live collections, ETABL exceptions and the change history.
//!
//! Plain reads and writes; the rules (who gets a seat, when a change is refused) live in
//! `crate::assignments`, which composes these inside one write transaction.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::directory::insert_in_batches;
use super::schema::{
    assignment_exclusions, assignment_history, assignment_seats, assignments, establishments, licence_pools,
    person_groups, person_mefs, person_mefstat4, person_profiles, persons, school_groups, school_wide_opt_outs,
    subscription_establishments, subscription_publics, subscriptions, teacher_group_subjects,
};
use super::{AnyConnection, StoreError};
use crate::domain::assignment::AssignmentTarget;
use crate::domain::directory::GroupStatus;
use crate::domain::entitlement::Term;
use crate::domain::ledger::{PoolCount, licensed_publics};
use crate::domain::licence::PoolPublic;
use crate::domain::subscription::AssignmentType;
use crate::domain::{Profile, Public, Uai};

/// Most ids bound in one `IN (…)`: well under both backends' bind limits.
const ID_CHUNK: usize = 10_000;

/// A subscription as one school's ledger sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionFacts {
    pub id: i64,
    /// idAbonnement.
    pub external_id: String,
    pub distributor_id: String,
    pub resource_id: String,
    pub resource_label: String,
    pub assignment_type: AssignmentType,
    pub term: Term,
    /// publicCible.
    pub publics: Vec<Public>,
    /// This school's counters.
    pub pools: Vec<(PoolPublic, PoolCount)>,
}

impl SubscriptionFacts {
    pub fn pool_publics(&self) -> Vec<PoolPublic> {
        self.pools.iter().map(|(public, _)| *public).collect()
    }

    /// The publics that can hold a seat (see `domain::ledger::licensed_publics`).
    pub fn licensed_publics(&self) -> Vec<Public> {
        licensed_publics(&self.publics, &self.pool_publics())
    }

    pub fn pool(&self, public: PoolPublic) -> Option<PoolCount> {
        self.pools.iter().find(|(p, _)| *p == public).map(|(_, count)| *count)
    }
}

/// The columns of a `SubscriptionRow`.
macro_rules! subscription_columns {
    () => {
        (
            subscriptions::id,
            subscriptions::external_id,
            subscriptions::distributor_id,
            subscriptions::resource_id,
            subscriptions::resource_label,
            subscriptions::assignment_type,
            subscriptions::valid_from,
            subscriptions::valid_until,
            subscriptions::end_school_year,
            subscriptions::deleted_at,
        )
    };
}

type SubscriptionRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<String>,
    Option<NaiveDateTime>,
);

/// A subscription that covers `uai` (deleted ones included, for their grace period), with its
/// publics and that school's counters; `None` when it does not exist or does not cover the school.
pub fn find_subscription(
    conn: &mut AnyConnection,
    subscription_id: i64,
    uai: &Uai,
) -> Result<Option<SubscriptionFacts>, StoreError> {
    let covered = subscription_establishments::table
        .filter(subscription_establishments::uai.eq(uai.as_str()))
        .select(subscription_establishments::subscription_id);
    let row: Option<SubscriptionRow> = subscriptions::table
        .filter(subscriptions::id.eq(subscription_id))
        .filter(subscriptions::id.eq_any(covered))
        .select(subscription_columns!())
        .first(conn)
        .optional()?;
    let Some(row) = row else { return Ok(None) };
    let mut facts = facts_from_row(row);
    facts.publics = publics_of(conn, subscription_id)?;
    facts.pools = pools_of(conn, subscription_id, uai)?;
    Ok(Some(facts))
}

fn facts_from_row(row: SubscriptionRow) -> SubscriptionFacts {
    let (id, external_id, distributor_id, resource_id, resource_label, kind, from, until, year, deleted) = row;
    SubscriptionFacts {
        id,
        external_id,
        distributor_id,
        resource_id,
        resource_label,
        assignment_type: if kind == AssignmentType::Establishment.code() {
            AssignmentType::Establishment
        } else {
            AssignmentType::Individual
        },
        term: Term::new(from, until, year.as_deref(), deleted),
        publics: Vec::new(),
        pools: Vec::new(),
    }
}

/// Every subscription covering a school, with publics and counters, ordered by resource label.
pub fn subscriptions_of_school(conn: &mut AnyConnection, uai: &Uai) -> Result<Vec<SubscriptionFacts>, StoreError> {
    let rows: Vec<SubscriptionRow> = subscriptions::table
        .inner_join(subscription_establishments::table)
        .filter(subscription_establishments::uai.eq(uai.as_str()))
        .order((subscriptions::resource_label, subscriptions::id))
        .select(subscription_columns!())
        .load(conn)?;
    let mut facts: Vec<SubscriptionFacts> = rows.into_iter().map(facts_from_row).collect();
    let covered = subscription_establishments::table
        .filter(subscription_establishments::uai.eq(uai.as_str()))
        .select(subscription_establishments::subscription_id);
    let publics: Vec<(i64, String)> = subscription_publics::table
        .filter(subscription_publics::subscription_id.eq_any(covered))
        .select((subscription_publics::subscription_id, subscription_publics::public))
        .load(conn)?;
    let pools: Vec<(i64, String, Option<i64>, i64)> = licence_pools::table
        .filter(licence_pools::uai.eq(uai.as_str()))
        .select((licence_pools::subscription_id, licence_pools::public, licence_pools::total, licence_pools::used))
        .load(conn)?;
    let mut index: BTreeMap<i64, usize> = BTreeMap::new();
    for (at, fact) in facts.iter().enumerate() {
        index.insert(fact.id, at);
    }
    for (id, code) in publics {
        if let (Some(fact), Ok(public)) = (index.get(&id).and_then(|at| facts.get_mut(*at)), Public::parse(&code)) {
            fact.publics.push(public);
        }
    }
    for (id, code, total, used) in pools {
        if let (Some(fact), Some(public)) = (index.get(&id).and_then(|at| facts.get_mut(*at)), PoolPublic::parse(&code))
        {
            fact.pools.push((public, PoolCount { total, used }));
        }
    }
    for fact in &mut facts {
        fact.publics.sort();
        fact.pools.sort_by_key(|(public, _)| *public);
    }
    Ok(facts)
}

fn publics_of(conn: &mut AnyConnection, subscription_id: i64) -> Result<Vec<Public>, StoreError> {
    let codes = subscription_publics::table
        .filter(subscription_publics::subscription_id.eq(subscription_id))
        .select(subscription_publics::public)
        .load::<String>(conn)?;
    Ok(sorted_publics(&codes))
}

/// Stored public codes as publics, sorted; a code that is not a public is skipped.
fn sorted_publics(codes: &[String]) -> Vec<Public> {
    let mut publics: Vec<Public> = codes.iter().filter_map(|code| Public::parse(code).ok()).collect();
    publics.sort();
    publics
}

/// One school's counters of a subscription, as stored now.
pub fn pools_of(
    conn: &mut AnyConnection,
    subscription_id: i64,
    uai: &Uai,
) -> Result<Vec<(PoolPublic, PoolCount)>, StoreError> {
    let rows: Vec<(String, Option<i64>, i64)> = licence_pools::table
        .filter(licence_pools::subscription_id.eq(subscription_id))
        .filter(licence_pools::uai.eq(uai.as_str()))
        .select((licence_pools::public, licence_pools::total, licence_pools::used))
        .load(conn)?;
    let mut pools: Vec<(PoolPublic, PoolCount)> = rows
        .into_iter()
        .filter_map(|(code, total, used)| PoolPublic::parse(&code).map(|public| (public, PoolCount { total, used })))
        .collect();
    pools.sort_by_key(|(public, _)| *public);
    Ok(pools)
}

/// Takes `n` seats from a counter in one conditional update: the row only changes while `n`
/// seats remain, so concurrent assignments cannot overshoot the total. Returns whether it did.
pub fn take_seats(
    conn: &mut AnyConnection,
    subscription_id: i64,
    uai: &Uai,
    pool: PoolPublic,
    n: i64,
) -> Result<bool, StoreError> {
    if n == 0 {
        return Ok(true);
    }
    let updated = diesel::update(
        licence_pools::table
            .filter(licence_pools::subscription_id.eq(subscription_id))
            .filter(licence_pools::uai.eq(uai.as_str()))
            .filter(licence_pools::public.eq(pool.code()))
            .filter(licence_pools::total.is_null().or((licence_pools::used + n).nullable().le(licence_pools::total))),
    )
    .set(licence_pools::used.eq(licence_pools::used + n))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Gives `n` seats back to a counter.
pub fn return_seats(
    conn: &mut AnyConnection,
    subscription_id: i64,
    uai: &Uai,
    pool: PoolPublic,
    n: i64,
) -> Result<(), StoreError> {
    if n > 0 {
        diesel::update(
            licence_pools::table
                .filter(licence_pools::subscription_id.eq(subscription_id))
                .filter(licence_pools::uai.eq(uai.as_str()))
                .filter(licence_pools::public.eq(pool.code())),
        )
        .set(licence_pools::used.eq(licence_pools::used - n))
        .execute(conn)?;
    }
    Ok(())
}

/// A person a target covers in a school, with their profiles there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub person_id: i64,
    pub gar_id: String,
    pub profiles: Vec<Profile>,
}

/// The people (present in the directory, holding a profile in `uai`) that `target` covers there,
/// by person id; `None` when the target names no class, group, level, subject or person of the school.
pub fn members(
    conn: &mut AnyConnection,
    uai: &Uai,
    target: &AssignmentTarget,
) -> Result<Option<Vec<Member>>, StoreError> {
    let school = uai.as_str();
    let group_members =
        |conn: &mut AnyConnection, codes: &[String], status: GroupStatus| -> QueryResult<Option<Vec<i64>>> {
            let groups: Vec<i64> = school_groups::table
                .filter(school_groups::uai.eq(school))
                .filter(school_groups::code.eq_any(codes))
                .filter(school_groups::status.eq(status.code()))
                .select(school_groups::id)
                .load(conn)?;
            if groups.len() != codes.len() {
                return Ok(None);
            }
            person_groups::table
                .filter(person_groups::group_id.eq_any(groups))
                .select(person_groups::person_id)
                .load(conn)
                .map(Some)
        };
    let ids: Option<Vec<i64>> = match target {
        AssignmentTarget::Person(gar_id) => {
            let ent = establishments::table.find(school).select(establishments::ent_id);
            let ids: Vec<i64> = persons::table
                .filter(persons::ent_id.eq_any(ent))
                .filter(persons::gar_id.eq(gar_id))
                .select(persons::id)
                .load(conn)?;
            Some(ids)
        }
        AssignmentTarget::Division(code) => group_members(conn, std::slice::from_ref(code), GroupStatus::Division)?,
        AssignmentTarget::Group(code) => group_members(conn, std::slice::from_ref(code), GroupStatus::Group)?,
        AssignmentTarget::Divisions(codes) => group_members(conn, codes, GroupStatus::Division)?,
        AssignmentTarget::Mef(code) => {
            let mut ids: Vec<i64> = person_mefs::table
                .filter(person_mefs::uai.eq(school))
                .filter(person_mefs::mef_code.eq(code))
                .select(person_mefs::person_id)
                .load(conn)?;
            ids.extend(
                person_mefstat4::table
                    .filter(person_mefstat4::uai.eq(school))
                    .filter(person_mefstat4::code.eq(code))
                    .select(person_mefstat4::person_id)
                    .load::<i64>(conn)?,
            );
            // A level names pupils; the teachers of the level are reached through their subject.
            let pupils: HashSet<i64> = person_profiles::table
                .filter(person_profiles::uai.eq(school))
                .filter(person_profiles::profile.eq(Profile::Pupil.code()))
                .filter(person_profiles::person_id.eq_any(&ids))
                .select(person_profiles::person_id)
                .load::<i64>(conn)?
                .into_iter()
                .collect();
            (!ids.is_empty()).then(|| ids.into_iter().filter(|id| pupils.contains(id)).collect())
        }
        AssignmentTarget::SubjectTeachers(code) => {
            let groups = school_groups::table.filter(school_groups::uai.eq(school)).select(school_groups::id);
            let ids: Vec<i64> = teacher_group_subjects::table
                .filter(teacher_group_subjects::subject_code.eq(code))
                .filter(teacher_group_subjects::group_id.eq_any(groups))
                .select(teacher_group_subjects::person_id)
                .load(conn)?;
            (!ids.is_empty()).then_some(ids)
        }
        AssignmentTarget::Profile(profile) => Some(
            person_profiles::table
                .filter(person_profiles::uai.eq(school))
                .filter(person_profiles::profile.eq(profile.code()))
                .select(person_profiles::person_id)
                .load(conn)?,
        ),
    };
    let Some(mut ids) = ids else { return Ok(None) };
    ids.sort_unstable();
    ids.dedup();
    let members = profiled(conn, uai, &ids)?;
    if matches!(target, AssignmentTarget::Person(_)) && members.is_empty() {
        return Ok(None);
    }
    Ok(Some(members))
}

/// The given people that are present and hold a profile in `uai`, with those profiles, by id.
pub fn profiled(conn: &mut AnyConnection, uai: &Uai, ids: &[i64]) -> Result<Vec<Member>, StoreError> {
    let mut members: BTreeMap<i64, Member> = BTreeMap::new();
    for chunk in ids.chunks(ID_CHUNK) {
        let rows: Vec<(i64, String, String)> = person_profiles::table
            .inner_join(persons::table)
            .filter(person_profiles::uai.eq(uai.as_str()))
            .filter(person_profiles::person_id.eq_any(chunk))
            .filter(persons::removed_at.is_null())
            .select((persons::id, persons::gar_id, person_profiles::profile))
            .load(conn)?;
        for (person_id, gar_id, code) in rows {
            if let Ok(profile) = Profile::parse(&code) {
                members
                    .entry(person_id)
                    .or_insert_with(|| Member { person_id, gar_id, profiles: Vec::new() })
                    .profiles
                    .push(profile);
            }
        }
    }
    Ok(members
        .into_values()
        .map(|mut member| {
            member.profiles.sort();
            member.profiles.dedup();
            member
        })
        .collect())
}

/// A manager's decision as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredAssignment {
    pub id: i64,
    pub subscription_id: i64,
    pub target: AssignmentTarget,
    /// The manager's GARPersonIdentifiant.
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

type AssignmentRow = (i64, i64, String, String, String, NaiveDateTime, Option<NaiveDateTime>);

fn stored_assignment(row: AssignmentRow) -> Result<StoredAssignment, StoreError> {
    let (id, subscription_id, kind, reference, created_by, created_at, revoked_at) = row;
    let target = AssignmentTarget::from_stored(&kind, &reference)
        .map_err(|e| StoreError::Corrupt(format!("assignment {id}: {e}")))?;
    Ok(StoredAssignment { id, subscription_id, target, created_by, created_at, revoked_at })
}

macro_rules! assignment_columns {
    () => {
        (
            assignments::id,
            assignments::subscription_id,
            assignments::target_kind,
            assignments::target_ref,
            assignments::created_by,
            assignments::created_at,
            assignments::revoked_at,
        )
    };
}

/// The live (not revoked) assignments of a subscription in a school, oldest first.
pub fn live_assignments(
    conn: &mut AnyConnection,
    subscription_id: i64,
    uai: &Uai,
) -> Result<Vec<StoredAssignment>, StoreError> {
    let rows: Vec<AssignmentRow> = assignments::table
        .filter(assignments::subscription_id.eq(subscription_id))
        .filter(assignments::uai.eq(uai.as_str()))
        .filter(assignments::revoked_at.is_null())
        .order(assignments::id)
        .select(assignment_columns!())
        .load(conn)?;
    rows.into_iter().map(stored_assignment).collect()
}

/// Every live assignment of a school, oldest first.
pub fn live_assignments_of_school(conn: &mut AnyConnection, uai: &Uai) -> Result<Vec<StoredAssignment>, StoreError> {
    let rows: Vec<AssignmentRow> = assignments::table
        .filter(assignments::uai.eq(uai.as_str()))
        .filter(assignments::revoked_at.is_null())
        .order(assignments::id)
        .select(assignment_columns!())
        .load(conn)?;
    rows.into_iter().map(stored_assignment).collect()
}

/// The assignments with the given ids that belong to a school.
pub fn find_assignments(conn: &mut AnyConnection, uai: &Uai, ids: &[i64]) -> Result<Vec<StoredAssignment>, StoreError> {
    let rows: Vec<AssignmentRow> = assignments::table
        .filter(assignments::uai.eq(uai.as_str()))
        .filter(assignments::id.eq_any(ids))
        .order(assignments::id)
        .select(assignment_columns!())
        .load(conn)?;
    rows.into_iter().map(stored_assignment).collect()
}

pub fn insert_assignment(
    conn: &mut AnyConnection,
    subscription_id: i64,
    uai: &Uai,
    target: &AssignmentTarget,
    created_by: &str,
    now: NaiveDateTime,
) -> Result<i64, StoreError> {
    Ok(diesel::insert_into(assignments::table)
        .values((
            assignments::subscription_id.eq(subscription_id),
            assignments::uai.eq(uai.as_str()),
            assignments::target_kind.eq(target.kind()),
            assignments::target_ref.eq(target.reference()),
            assignments::created_by.eq(created_by),
            assignments::created_at.eq(now),
        ))
        .returning(assignments::id)
        .get_result(conn)?)
}

/// Marks live assignments revoked; returns how many changed.
pub fn revoke_assignments(
    conn: &mut AnyConnection,
    ids: &[i64],
    by: &str,
    reason: &str,
    now: NaiveDateTime,
) -> Result<usize, StoreError> {
    Ok(diesel::update(assignments::table.filter(assignments::id.eq_any(ids)).filter(assignments::revoked_at.is_null()))
        .set((assignments::revoked_at.eq(now), assignments::revoked_by.eq(by), assignments::revoke_reason.eq(reason)))
        .execute(conn)?)
}

/// Makes revoked assignments live again (undoing a withdrawal); returns how many changed.
pub fn restore_assignments(conn: &mut AnyConnection, ids: &[i64]) -> Result<usize, StoreError> {
    Ok(diesel::update(
        assignments::table.filter(assignments::id.eq_any(ids)).filter(assignments::revoked_at.is_not_null()),
    )
    .set((
        assignments::revoked_at.eq(None::<NaiveDateTime>),
        assignments::revoked_by.eq(None::<String>),
        assignments::revoke_reason.eq(None::<String>),
    ))
    .execute(conn)?)
}

/// (assignment, person) pairs withdrawn from the live assignments of a subscription in a school.
pub fn exclusions(
    conn: &mut AnyConnection,
    subscription_id: i64,
    uai: &Uai,
) -> Result<HashSet<(i64, i64)>, StoreError> {
    let live = assignments::table
        .filter(assignments::subscription_id.eq(subscription_id))
        .filter(assignments::uai.eq(uai.as_str()))
        .filter(assignments::revoked_at.is_null())
        .select(assignments::id);
    Ok(assignment_exclusions::table
        .filter(assignment_exclusions::assignment_id.eq_any(live))
        .select((assignment_exclusions::assignment_id, assignment_exclusions::person_id))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .collect())
}

/// Records withdrawals of people from live collection assignments, on behalf of a history entry.
pub fn insert_exclusions(conn: &mut AnyConnection, pairs: &[(i64, i64)], history_id: i64) -> Result<(), StoreError> {
    let rows: Vec<_> = pairs
        .iter()
        .map(|(assignment_id, person_id)| {
            (
                assignment_exclusions::assignment_id.eq(*assignment_id),
                assignment_exclusions::person_id.eq(*person_id),
                assignment_exclusions::history_id.eq(history_id),
            )
        })
        .collect();
    insert_in_batches!(conn, assignment_exclusions::table, rows, 3);
    Ok(())
}

/// Removes the withdrawals a history entry made; returns the people they concerned.
pub fn delete_exclusions(conn: &mut AnyConnection, history_id: i64) -> Result<Vec<i64>, StoreError> {
    let people = assignment_exclusions::table
        .filter(assignment_exclusions::history_id.eq(history_id))
        .select(assignment_exclusions::person_id)
        .load(conn)?;
    diesel::delete(assignment_exclusions::table.filter(assignment_exclusions::history_id.eq(history_id)))
        .execute(conn)?;
    Ok(people)
}

/// Seat statuses as stored.
pub const ACTIVE: &str = "ACTIVE";
pub const WAITING: &str = "WAITING";
pub const RELEASED: &str = "RELEASED";

/// A seat that is held or waited for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldSeat {
    pub id: i64,
    pub assignment_id: i64,
    pub person_id: i64,
    pub gar_id: String,
    pub public: Public,
    /// ACTIVE (holds the seat) or WAITING.
    pub active: bool,
}

/// The ACTIVE and WAITING seats of a subscription in a school, first requested first.
pub fn held_seats(conn: &mut AnyConnection, subscription_id: i64, uai: &Uai) -> Result<Vec<HeldSeat>, StoreError> {
    let rows: Vec<(i64, i64, i64, String, String, String)> = assignment_seats::table
        .inner_join(persons::table)
        .filter(assignment_seats::subscription_id.eq(subscription_id))
        .filter(assignment_seats::uai.eq(uai.as_str()))
        .filter(assignment_seats::status.ne(RELEASED))
        .order(assignment_seats::id)
        .select((
            assignment_seats::id,
            assignment_seats::assignment_id,
            assignment_seats::person_id,
            persons::gar_id,
            assignment_seats::public,
            assignment_seats::status,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(id, assignment_id, person_id, gar_id, public, status)| {
            let public = Public::parse(&public).map_err(|e| StoreError::Corrupt(format!("seat {id}: {e}")))?;
            Ok(HeldSeat { id, assignment_id, person_id, gar_id, public, active: status == ACTIVE })
        })
        .collect()
}

/// A seat to record.
#[derive(Insertable)]
#[diesel(table_name = assignment_seats, treat_none_as_default_value = false)]
pub struct NewSeat<'a> {
    pub assignment_id: i64,
    pub subscription_id: i64,
    pub uai: &'a str,
    pub person_id: i64,
    pub public: &'a str,
    pub status: &'a str,
    pub granted_at: NaiveDateTime,
    pub released_at: Option<NaiveDateTime>,
    pub release_reason: Option<&'a str>,
}

pub fn insert_seats(conn: &mut AnyConnection, seats: &[NewSeat<'_>]) -> Result<usize, StoreError> {
    Ok(insert_in_batches!(conn, assignment_seats::table, seats, 9))
}

/// Waiting seats now hold their seat.
pub fn activate_seats(conn: &mut AnyConnection, ids: &[i64], now: NaiveDateTime) -> Result<(), StoreError> {
    for chunk in ids.chunks(ID_CHUNK) {
        diesel::update(assignment_seats::table.filter(assignment_seats::id.eq_any(chunk)))
            .set((assignment_seats::status.eq(ACTIVE), assignment_seats::granted_at.eq(now)))
            .execute(conn)?;
    }
    Ok(())
}

/// Seats given up, with the reason shown in the console.
pub fn release_seats(
    conn: &mut AnyConnection,
    ids: &[i64],
    reason: &str,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    for chunk in ids.chunks(ID_CHUNK) {
        diesel::update(assignment_seats::table.filter(assignment_seats::id.eq_any(chunk)))
            .set((
                assignment_seats::status.eq(RELEASED),
                assignment_seats::released_at.eq(now),
                assignment_seats::release_reason.eq(reason),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Seats kept by another assignment that still covers their holder.
pub fn move_seats(conn: &mut AnyConnection, ids: &[i64], assignment_id: i64) -> Result<(), StoreError> {
    for chunk in ids.chunks(ID_CHUNK) {
        diesel::update(assignment_seats::table.filter(assignment_seats::id.eq_any(chunk)))
            .set(assignment_seats::assignment_id.eq(assignment_id))
            .execute(conn)?;
    }
    Ok(())
}

/// The publics a manager switched off for an ETABL subscription in a school.
pub fn opted_out_publics(conn: &mut AnyConnection, subscription_id: i64, uai: &Uai) -> Result<Vec<Public>, StoreError> {
    let codes = school_wide_opt_outs::table
        .filter(school_wide_opt_outs::subscription_id.eq(subscription_id))
        .filter(school_wide_opt_outs::uai.eq(uai.as_str()))
        .select(school_wide_opt_outs::public)
        .load::<String>(conn)?;
    Ok(sorted_publics(&codes))
}

/// Switches a public off; false when it already was.
pub fn insert_opt_out(
    conn: &mut AnyConnection,
    subscription_id: i64,
    uai: &Uai,
    public: Public,
    by: &str,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    if opted_out_publics(conn, subscription_id, uai)?.contains(&public) {
        return Ok(false);
    }
    diesel::insert_into(school_wide_opt_outs::table)
        .values((
            school_wide_opt_outs::subscription_id.eq(subscription_id),
            school_wide_opt_outs::uai.eq(uai.as_str()),
            school_wide_opt_outs::public.eq(public.code()),
            school_wide_opt_outs::created_by.eq(by),
            school_wide_opt_outs::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(true)
}

/// Switches a public back on; false when it already was.
pub fn delete_opt_out(
    conn: &mut AnyConnection,
    subscription_id: i64,
    uai: &Uai,
    public: Public,
) -> Result<bool, StoreError> {
    let deleted = diesel::delete(
        school_wide_opt_outs::table
            .filter(school_wide_opt_outs::subscription_id.eq(subscription_id))
            .filter(school_wide_opt_outs::uai.eq(uai.as_str()))
            .filter(school_wide_opt_outs::public.eq(public.code())),
    )
    .execute(conn)?;
    Ok(deleted == 1)
}

/// One change a manager made, as the console history lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryEntry {
    pub id: i64,
    pub subscription_id: Option<i64>,
    pub assignment_id: Option<i64>,
    pub action: String,
    /// `Actor` string, e.g. `manager:Z0/z0-dir-0001`.
    pub actor: String,
    pub at: NaiveDateTime,
    pub details: serde_json::Value,
    pub undone_at: Option<NaiveDateTime>,
    pub undone_by: Option<String>,
}

type HistoryRow =
    (i64, Option<i64>, Option<i64>, String, String, NaiveDateTime, String, Option<NaiveDateTime>, Option<String>);

macro_rules! history_columns {
    () => {
        (
            assignment_history::id,
            assignment_history::subscription_id,
            assignment_history::assignment_id,
            assignment_history::action,
            assignment_history::actor,
            assignment_history::at,
            assignment_history::details,
            assignment_history::undone_at,
            assignment_history::undone_by,
        )
    };
}

fn history_entry(row: HistoryRow) -> Result<HistoryEntry, StoreError> {
    let (id, subscription_id, assignment_id, action, actor, at, details, undone_at, undone_by) = row;
    let details =
        serde_json::from_str(&details).map_err(|e| StoreError::Corrupt(format!("history entry {id}: {e}")))?;
    Ok(HistoryEntry { id, subscription_id, assignment_id, action, actor, at, details, undone_at, undone_by })
}

/// A new history entry for a school; returns its id.
#[allow(clippy::too_many_arguments)]
pub fn insert_history(
    conn: &mut AnyConnection,
    uai: &Uai,
    subscription_id: Option<i64>,
    assignment_id: Option<i64>,
    action: &str,
    actor: &str,
    details: &serde_json::Value,
    now: NaiveDateTime,
) -> Result<i64, StoreError> {
    Ok(diesel::insert_into(assignment_history::table)
        .values((
            assignment_history::uai.eq(uai.as_str()),
            assignment_history::subscription_id.eq(subscription_id),
            assignment_history::assignment_id.eq(assignment_id),
            assignment_history::action.eq(action),
            assignment_history::actor.eq(actor),
            assignment_history::at.eq(now),
            assignment_history::details.eq(details.to_string()),
        ))
        .returning(assignment_history::id)
        .get_result(conn)?)
}

/// Completes an entry once the change it records is known.
pub fn set_history_details(
    conn: &mut AnyConnection,
    id: i64,
    assignment_id: Option<i64>,
    details: &serde_json::Value,
) -> Result<(), StoreError> {
    diesel::update(assignment_history::table.find(id))
        .set((assignment_history::assignment_id.eq(assignment_id), assignment_history::details.eq(details.to_string())))
        .execute(conn)?;
    Ok(())
}

/// An entry of a school's history.
pub fn find_history(conn: &mut AnyConnection, uai: &Uai, id: i64) -> Result<Option<HistoryEntry>, StoreError> {
    let row: Option<HistoryRow> = assignment_history::table
        .filter(assignment_history::id.eq(id))
        .filter(assignment_history::uai.eq(uai.as_str()))
        .select(history_columns!())
        .first(conn)
        .optional()?;
    row.map(history_entry).transpose()
}

/// Marks an entry undone; false when it already was.
pub fn mark_undone(conn: &mut AnyConnection, id: i64, by: &str, now: NaiveDateTime) -> Result<bool, StoreError> {
    let updated = diesel::update(
        assignment_history::table.filter(assignment_history::id.eq(id)).filter(assignment_history::undone_at.is_null()),
    )
    .set((assignment_history::undone_at.eq(now), assignment_history::undone_by.eq(by)))
    .execute(conn)?;
    Ok(updated == 1)
}

/// A school's history, newest first: at most `limit` entries older than `before` (an entry id).
pub fn history(
    conn: &mut AnyConnection,
    uai: &Uai,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<HistoryEntry>, StoreError> {
    let mut query = assignment_history::table
        .filter(assignment_history::uai.eq(uai.as_str()))
        .order(assignment_history::id.desc())
        .limit(limit)
        .select(history_columns!())
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(assignment_history::id.lt(before));
    }
    query.load::<HistoryRow>(conn)?.into_iter().map(history_entry).collect()
}
