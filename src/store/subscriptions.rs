//! Subscriptions, their publics and schools, and the licence pools that count seats.

use chrono::Utc;
use diesel::prelude::*;

use super::directory::insert_in_batches;
use super::schema::{licence_pools, subscription_establishments, subscription_publics, subscriptions};
use super::{AnyConnection, StoreError, write_transaction};
use crate::domain::subscription::Subscription;
use crate::domain::{LicenceCount, SirenIsni};

/// Inserts a subscription with its `publicCible`, its `uaiEtab` and, for each school, one licence
/// pool per counter (`GLOBAL` for `nbLicenceGlobale`; total NULL for `ILLIMITE`; nothing used yet).
/// Returns the new `subscriptions.id`. One transaction.
///
/// The subscription should have passed `Subscription::validate`. Schools named only through
/// `codeNatureUAI` get no rows here: expanding natures into schools is the caller's job.
pub fn insert_subscription(conn: &mut AnyConnection, sub: &Subscription) -> Result<i64, StoreError> {
    write_transaction(conn, |conn| {
        let now = Utc::now().naive_utc();
        let db = |count: Option<LicenceCount>| count.map(LicenceCount::to_db);
        let id: i64 = diesel::insert_into(subscriptions::table)
            .values((
                subscriptions::distributor_id.eq(sub.distributor_id.as_str()),
                subscriptions::external_id.eq(&sub.id),
                subscriptions::comment.eq(sub.comment.as_deref()),
                subscriptions::resource_id.eq(&sub.resource_id),
                subscriptions::resource_id_type.eq(&sub.resource_id_type),
                subscriptions::resource_label.eq(&sub.resource_label),
                subscriptions::valid_from.eq(sub.valid_from),
                subscriptions::valid_until.eq(sub.valid_until),
                subscriptions::end_school_year.eq(sub.end_school_year.as_deref()),
                subscriptions::nature_codes.eq(sub.nature_codes.as_deref()),
                subscriptions::category.eq(&sub.category),
                subscriptions::assignment_type.eq(sub.assignment_type.code()),
                subscriptions::licences_pupil.eq(db(sub.licences_pupil)),
                subscriptions::licences_teacher.eq(db(sub.licences_teacher)),
                subscriptions::licences_librarian.eq(db(sub.licences_librarian)),
                subscriptions::licences_other_staff.eq(db(sub.licences_other_staff)),
                subscriptions::licences_global.eq(db(sub.licences_global)),
                subscriptions::project_code.eq(sub.project_code.as_deref()),
                subscriptions::created_at.eq(now),
                subscriptions::updated_at.eq(now),
            ))
            .returning(subscriptions::id)
            .get_result(conn)?;

        let publics: Vec<_> = sub
            .publics
            .iter()
            .map(|public| {
                (subscription_publics::subscription_id.eq(id), subscription_publics::public.eq(public.code()))
            })
            .collect();
        insert_in_batches!(conn, subscription_publics::table, publics, 2);

        let schools: Vec<_> = sub
            .establishments
            .iter()
            .map(|uai| {
                (subscription_establishments::subscription_id.eq(id), subscription_establishments::uai.eq(uai.as_str()))
            })
            .collect();
        insert_in_batches!(conn, subscription_establishments::table, schools, 2);

        let pools = sub.pools();
        let rows: Vec<_> = sub
            .establishments
            .iter()
            .flat_map(|uai| {
                pools.iter().map(move |(public, count)| {
                    (
                        licence_pools::subscription_id.eq(id),
                        licence_pools::uai.eq(uai.as_str()),
                        licence_pools::public.eq(public.code()),
                        licence_pools::total.eq(count.pool_total()),
                        licence_pools::used.eq(0i64),
                    )
                })
            })
            .collect();
        insert_in_batches!(conn, licence_pools::table, rows, 5);
        Ok(id)
    })
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
