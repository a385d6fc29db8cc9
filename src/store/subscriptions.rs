//! Subscriptions, their publics and schools, and the licence pools that count seats.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;

use super::directory::insert_in_batches;
use super::schema::{
    assignment_seats, establishments, licence_pools, subscription_establishments, subscription_publics, subscriptions,
};
use super::{AnyConnection, StoreError, write_transaction};
use crate::domain::licence::PoolPublic;
use crate::domain::subscription::{AssignmentType, Subscription};
use crate::domain::{LicenceCount, Public, SirenIsni, Uai};

/// A stored subscription: its row id, its `<abonnement>` as the distributor last sent it, and when
/// it was created, last changed and (if so) deleted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSubscription {
    pub id: i64,
    pub subscription: Subscription,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

/// Inserts a subscription with its `publicCible`, its schools and, for each school, one licence pool
/// per counter (`GLOBAL` for `nbLicenceGlobale`; total NULL for `ILLIMITE`; nothing used yet).
/// Returns the new `subscriptions.id`. One transaction.
///
/// The schools are `uaiEtab`, or for `codeNatureUAI` every known school of those natures at this
/// moment (see [`expand_natures`] for the schools that get a nature later). The subscription should
/// have passed `Subscription::validate`; a live duplicate `idAbonnement` fails on the unique index.
pub fn insert_subscription(conn: &mut AnyConnection, sub: &Subscription) -> Result<i64, StoreError> {
    write_transaction(conn, |conn| {
        let now = Utc::now().naive_utc();
        let id: i64 = diesel::insert_into(subscriptions::table)
            .values((
                subscriptions::distributor_id.eq(sub.distributor_id.as_str()),
                subscriptions::external_id.eq(&sub.id),
                subscriptions::valid_from.eq(sub.valid_from),
                subscriptions::nature_codes.eq(sub.nature_codes.as_deref()),
                subscriptions::created_at.eq(now),
                Fields::of(sub, now),
            ))
            .returning(subscriptions::id)
            .get_result(conn)?;
        insert_publics(conn, id, &sub.publics)?;
        let schools = match sub.nature_codes().as_slice() {
            [] => sub.establishments.iter().map(|uai| uai.as_str().to_owned()).collect(),
            natures => schools_of_natures(conn, natures)?,
        };
        add_schools(conn, id, &schools, &sub.pools())?;
        Ok(id)
    })
}

/// The columns an update may change (all but the id, distributor, start and schools), also
/// written at creation.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = subscriptions, treat_none_as_null = true, treat_none_as_default_value = false)]
struct Fields<'a> {
    comment: Option<&'a str>,
    resource_id: &'a str,
    resource_id_type: &'a str,
    resource_label: &'a str,
    valid_until: Option<NaiveDateTime>,
    end_school_year: Option<&'a str>,
    ends_at: Option<NaiveDateTime>,
    category: &'a str,
    assignment_type: &'a str,
    licences_pupil: Option<i64>,
    licences_teacher: Option<i64>,
    licences_librarian: Option<i64>,
    licences_other_staff: Option<i64>,
    licences_global: Option<i64>,
    project_code: Option<&'a str>,
    updated_at: NaiveDateTime,
}

impl<'a> Fields<'a> {
    fn of(sub: &'a Subscription, now: NaiveDateTime) -> Self {
        let db = |count: Option<LicenceCount>| count.map(LicenceCount::to_db);
        Self {
            comment: sub.comment.as_deref(),
            resource_id: &sub.resource_id,
            resource_id_type: &sub.resource_id_type,
            resource_label: &sub.resource_label,
            valid_until: sub.valid_until,
            end_school_year: sub.end_school_year.as_deref(),
            ends_at: sub.ends_at(),
            category: &sub.category,
            assignment_type: sub.assignment_type.code(),
            licences_pupil: db(sub.licences_pupil),
            licences_teacher: db(sub.licences_teacher),
            licences_librarian: db(sub.licences_librarian),
            licences_other_staff: db(sub.licences_other_staff),
            licences_global: db(sub.licences_global),
            project_code: sub.project_code.as_deref(),
            updated_at: now,
        }
    }
}

fn insert_publics(conn: &mut AnyConnection, id: i64, publics: &[Public]) -> QueryResult<()> {
    let rows: Vec<_> = publics
        .iter()
        .map(|public| (subscription_publics::subscription_id.eq(id), subscription_publics::public.eq(public.code())))
        .collect();
    insert_in_batches!(conn, subscription_publics::table, rows, 2);
    Ok(())
}

/// Adds schools to a subscription, each with a pool per counter.
fn add_schools(
    conn: &mut AnyConnection,
    id: i64,
    schools: &[String],
    pools: &[(PoolPublic, LicenceCount)],
) -> QueryResult<()> {
    let rows: Vec<_> = schools
        .iter()
        .map(|uai| (subscription_establishments::subscription_id.eq(id), subscription_establishments::uai.eq(uai)))
        .collect();
    insert_in_batches!(conn, subscription_establishments::table, rows, 2);
    let rows: Vec<_> = schools
        .iter()
        .flat_map(|uai| {
            pools.iter().map(move |(public, count)| {
                (
                    licence_pools::subscription_id.eq(id),
                    licence_pools::uai.eq(uai),
                    licence_pools::public.eq(public.code()),
                    licence_pools::total.eq(count.pool_total()),
                    licence_pools::used.eq(0i64),
                )
            })
        })
        .collect();
    insert_in_batches!(conn, licence_pools::table, rows, 5);
    Ok(())
}

/// The known schools whose `nature_code` is one of `natures`, in UAI order.
pub fn schools_of_natures(conn: &mut AnyConnection, natures: &[&str]) -> QueryResult<Vec<String>> {
    establishments::table
        .filter(establishments::nature_code.eq_any(natures))
        .select(establishments::uai)
        .order(establishments::uai)
        .load(conn)
}

/// The id of a distributor's live (not deleted) subscription.
pub fn find_live_id(
    conn: &mut AnyConnection,
    distributor: &SirenIsni,
    external_id: &str,
) -> Result<Option<i64>, StoreError> {
    Ok(subscriptions::table
        .filter(subscriptions::distributor_id.eq(distributor.as_str()))
        .filter(subscriptions::external_id.eq(external_id))
        .filter(subscriptions::deleted_at.is_null())
        .select(subscriptions::id)
        .first(conn)
        .optional()?)
}

/// A distributor's live subscription, as stored. Another distributor's is never found.
pub fn find_live(
    conn: &mut AnyConnection,
    distributor: &SirenIsni,
    external_id: &str,
) -> Result<Option<StoredSubscription>, StoreError> {
    match find_live_id(conn, distributor, external_id)? {
        Some(id) => Ok(load(conn, &[id])?.pop()),
        None => Ok(None),
    }
}

/// The schools a subscription covers (`uaiEtab`, or the expansion of `codeNatureUAI`), in UAI order.
pub fn schools_of(conn: &mut AnyConnection, id: i64) -> QueryResult<Vec<String>> {
    subscription_establishments::table
        .filter(subscription_establishments::subscription_id.eq(id))
        .select(subscription_establishments::uai)
        .order(subscription_establishments::uai)
        .load(conn)
}

/// What an update did to the seat counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Updated {
    /// Schools the update added (natures expanded again).
    pub added_schools: Vec<String>,
    /// Counters (school, pool) left with more seats in use than their new total.
    pub over_allocated: Vec<(String, String)>,
}

/// Replaces a live subscription's fields (all but its id, distributor, start and schools) with
/// `sub`, in one transaction, and brings its licence pools in line with the new counts:
///
/// - a counter that stays has its total changed and keeps the seats in use, even above the new
///   total (the pool is then over-allocated: see README, "Licence rules");
/// - a counter that appears gets a pool per school, nothing used;
/// - a counter that disappears loses its pools where no seat is in use; where seats are in use the
///   pool stays with total 0, over-allocated, so nobody loses access silently.
///
/// For `codeNatureUAI`, schools that got one of the natures since are added (never removed).
pub fn update_subscription(conn: &mut AnyConnection, id: i64, sub: &Subscription) -> Result<Updated, StoreError> {
    write_transaction(conn, |conn| {
        diesel::update(subscriptions::table.find(id)).set(Fields::of(sub, Utc::now().naive_utc())).execute(conn)?;
        diesel::delete(subscription_publics::table.filter(subscription_publics::subscription_id.eq(id)))
            .execute(conn)?;
        insert_publics(conn, id, &sub.publics)?;

        let pools = sub.pools();
        let schools = schools_of(conn, id)?;
        sync_pools(conn, id, &schools, &pools)?;
        let added_schools = match sub.nature_codes().as_slice() {
            [] => Vec::new(),
            natures => {
                let known: HashSet<String> = schools.into_iter().collect();
                let added: Vec<String> =
                    schools_of_natures(conn, natures)?.into_iter().filter(|uai| !known.contains(uai)).collect();
                add_schools(conn, id, &added, &pools)?;
                added
            }
        };
        Ok(Updated { added_schools, over_allocated: over_allocated(conn, id)? })
    })
}

/// Makes a subscription's pools match `pools` for every school in `schools` (see
/// [`update_subscription`] for what happens to seats in use).
fn sync_pools(
    conn: &mut AnyConnection,
    id: i64,
    schools: &[String],
    pools: &[(PoolPublic, LicenceCount)],
) -> QueryResult<()> {
    let of_subscription = || licence_pools::table.filter(licence_pools::subscription_id.eq(id));
    let existing: HashSet<(String, String)> =
        of_subscription().select((licence_pools::uai, licence_pools::public)).load(conn)?.into_iter().collect();
    for (public, count) in pools {
        diesel::update(of_subscription().filter(licence_pools::public.eq(public.code())))
            .set(licence_pools::total.eq(count.pool_total()))
            .execute(conn)?;
    }
    let wanted: Vec<&str> = pools.iter().map(|(public, _)| public.code()).collect();
    let gone = || of_subscription().filter(licence_pools::public.ne_all(wanted.clone()));
    diesel::delete(gone().filter(licence_pools::used.eq(0i64))).execute(conn)?;
    diesel::update(gone()).set(licence_pools::total.eq(Some(0i64))).execute(conn)?;

    let missing: Vec<_> = schools
        .iter()
        .flat_map(|uai| pools.iter().map(move |(public, count)| (uai, public.code(), count.pool_total())))
        .filter(|(uai, public, _)| !existing.contains(&((*uai).clone(), (*public).to_owned())))
        .map(|(uai, public, total)| {
            (
                licence_pools::subscription_id.eq(id),
                licence_pools::uai.eq(uai),
                licence_pools::public.eq(public),
                licence_pools::total.eq(total),
                licence_pools::used.eq(0i64),
            )
        })
        .collect();
    insert_in_batches!(conn, licence_pools::table, missing, 5);
    Ok(())
}

/// A subscription's counters with more seats in use than their total: (school, pool).
fn over_allocated(conn: &mut AnyConnection, id: i64) -> QueryResult<Vec<(String, String)>> {
    licence_pools::table
        .filter(licence_pools::subscription_id.eq(id))
        .filter(licence_pools::used.nullable().gt(licence_pools::total))
        .select((licence_pools::uai, licence_pools::public))
        .order((licence_pools::uai, licence_pools::public))
        .load(conn)
}

/// Marks a live subscription deleted at `now`: kept as history (listed with `aboSuppr=true`), its
/// `idAbonnement` free again. Seats are not touched: what they give continues for the grace period
/// (README, "Licence rules"). Returns the number of seats still held.
pub fn delete_subscription(conn: &mut AnyConnection, id: i64, now: NaiveDateTime) -> Result<i64, StoreError> {
    write_transaction(conn, |conn| {
        diesel::update(subscriptions::table.find(id).filter(subscriptions::deleted_at.is_null()))
            .set((subscriptions::deleted_at.eq(now), subscriptions::updated_at.eq(now)))
            .execute(conn)?;
        Ok(assignment_seats::table
            .filter(assignment_seats::subscription_id.eq(id))
            .filter(assignment_seats::status.eq("ACTIVE"))
            .count()
            .get_result(conn)?)
    })
}

/// A `codeNatureUAI` subscription that schools joined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expanded {
    pub distributor: String,
    pub external_id: String,
    pub added_schools: Vec<String>,
}

/// Adds to every live `codeNatureUAI` subscription the schools that now carry one of its natures
/// (each with its pools). Schools are never removed: a school whose nature changed keeps what it
/// was given. Returns the subscriptions that changed.
pub fn expand_natures(conn: &mut AnyConnection) -> Result<Vec<Expanded>, StoreError> {
    write_transaction(conn, |conn| {
        let ids: Vec<i64> = subscriptions::table
            .filter(subscriptions::deleted_at.is_null())
            .filter(subscriptions::nature_codes.is_not_null())
            .select(subscriptions::id)
            .order(subscriptions::id)
            .load(conn)?;
        let mut changed = Vec::new();
        for stored in load(conn, &ids)? {
            let sub = &stored.subscription;
            let known: HashSet<String> = schools_of(conn, stored.id)?.into_iter().collect();
            let added: Vec<String> =
                schools_of_natures(conn, &sub.nature_codes())?.into_iter().filter(|uai| !known.contains(uai)).collect();
            if !added.is_empty() {
                add_schools(conn, stored.id, &added, &sub.pools())?;
                changed.push(Expanded {
                    distributor: sub.distributor_id.to_string(),
                    external_id: sub.id.clone(),
                    added_schools: added,
                });
            }
        }
        Ok(changed)
    })
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = subscriptions)]
struct SubscriptionRow {
    id: i64,
    distributor_id: String,
    external_id: String,
    comment: Option<String>,
    resource_id: String,
    resource_id_type: String,
    resource_label: String,
    valid_from: NaiveDateTime,
    valid_until: Option<NaiveDateTime>,
    end_school_year: Option<String>,
    nature_codes: Option<String>,
    category: String,
    assignment_type: String,
    licences_pupil: Option<i64>,
    licences_teacher: Option<i64>,
    licences_librarian: Option<i64>,
    licences_other_staff: Option<i64>,
    licences_global: Option<i64>,
    project_code: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    deleted_at: Option<NaiveDateTime>,
}

/// Stored data that no longer reads as a subscription (edited by hand, or a bug).
fn corrupt(what: String) -> StoreError {
    StoreError::Query(diesel::result::Error::DeserializationError(what.into()))
}

/// Loads subscriptions by row id, in the order of `ids` (unknown ids are skipped). `uaiEtab` is
/// filled for subscriptions given by school only: a `codeNatureUAI` one shows its natures.
pub fn load(conn: &mut AnyConnection, ids: &[i64]) -> Result<Vec<StoredSubscription>, StoreError> {
    let rows: Vec<SubscriptionRow> =
        subscriptions::table.filter(subscriptions::id.eq_any(ids)).select(SubscriptionRow::as_select()).load(conn)?;
    let mut publics: HashMap<i64, Vec<Public>> = HashMap::new();
    let public_rows: Vec<(i64, String)> = subscription_publics::table
        .filter(subscription_publics::subscription_id.eq_any(ids))
        .select((subscription_publics::subscription_id, subscription_publics::public))
        .load(conn)?;
    for (id, code) in public_rows {
        let public = Public::parse(&code).map_err(|e| corrupt(e.to_string()))?;
        publics.entry(id).or_default().push(public);
    }
    let by_school: Vec<i64> = rows.iter().filter(|row| row.nature_codes.is_none()).map(|row| row.id).collect();
    let mut schools: HashMap<i64, Vec<Uai>> = HashMap::new();
    let school_rows: Vec<(i64, String)> = subscription_establishments::table
        .filter(subscription_establishments::subscription_id.eq_any(&by_school))
        .select((subscription_establishments::subscription_id, subscription_establishments::uai))
        .order((subscription_establishments::subscription_id, subscription_establishments::uai))
        .load(conn)?;
    for (id, uai) in school_rows {
        schools.entry(id).or_default().push(Uai::parse(&uai).map_err(|e| corrupt(e.to_string()))?);
    }

    let mut by_id: HashMap<i64, StoredSubscription> = HashMap::with_capacity(rows.len());
    for row in rows {
        let mut publics = publics.remove(&row.id).unwrap_or_default();
        publics.sort();
        let stored = from_row(row, publics, &mut schools)?;
        by_id.insert(stored.id, stored);
    }
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

fn from_row(
    row: SubscriptionRow,
    publics: Vec<Public>,
    schools: &mut HashMap<i64, Vec<Uai>>,
) -> Result<StoredSubscription, StoreError> {
    let count = |value: Option<i64>| value.map(LicenceCount::from_db).transpose().map_err(|e| corrupt(e.to_string()));
    let assignment_type = match row.assignment_type.as_str() {
        "INDIV" => AssignmentType::Individual,
        "ETABL" => AssignmentType::Establishment,
        other => return Err(corrupt(format!("assignment type `{other}`"))),
    };
    let subscription = Subscription {
        id: row.external_id,
        comment: row.comment,
        distributor_id: SirenIsni::parse(&row.distributor_id).map_err(|e| corrupt(e.to_string()))?,
        resource_id: row.resource_id,
        resource_id_type: row.resource_id_type,
        resource_label: row.resource_label,
        valid_from: row.valid_from,
        valid_until: row.valid_until,
        end_school_year: row.end_school_year,
        establishments: schools.remove(&row.id).unwrap_or_default(),
        nature_codes: row.nature_codes,
        category: row.category,
        assignment_type,
        licences_teacher: count(row.licences_teacher)?,
        licences_pupil: count(row.licences_pupil)?,
        licences_librarian: count(row.licences_librarian)?,
        licences_other_staff: count(row.licences_other_staff)?,
        licences_global: count(row.licences_global)?,
        publics,
        project_code: row.project_code,
    };
    Ok(StoredSubscription {
        id: row.id,
        subscription,
        created_at: row.created_at,
        updated_at: row.updated_at,
        deleted_at: row.deleted_at,
    })
}
