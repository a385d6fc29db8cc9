//! Leases in `job_leases`, so that one node at a time runs a given job (an ENT project's import,
//! a drop-folder file) when several nodes share the database.
//!
//! A lease names its holder and expires; the holder renews it while working. Taking a lease is one
//! conditional upsert, atomic on both backends.

use chrono::{NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamp};

use super::schema::job_leases;
use super::{AnyConnection, StoreError};

/// Takes `name` for `holder` until `now + ttl` if nobody holds it, its lease expired, or `holder`
/// already holds it. Returns whether `holder` now holds it.
pub fn acquire(conn: &mut AnyConnection, name: &str, holder: &str, ttl: TimeDelta) -> Result<bool, StoreError> {
    let now = Utc::now().naive_utc();
    let taken = diesel::sql_query(
        "INSERT INTO job_leases (name, holder, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
         WHERE job_leases.expires_at < $4 OR job_leases.holder = excluded.holder",
    )
    .bind::<Text, _>(name)
    .bind::<Text, _>(holder)
    .bind::<Timestamp, _>(now + ttl)
    .bind::<Timestamp, _>(now)
    .execute(conn)?;
    Ok(taken == 1)
}

/// Takes `name` from `previous` (a holder known to be dead), if it still holds it.
pub fn take_over(
    conn: &mut AnyConnection,
    name: &str,
    previous: &str,
    holder: &str,
    ttl: TimeDelta,
) -> Result<bool, StoreError> {
    let taken = diesel::update(job_leases::table.find(name).filter(job_leases::holder.eq(previous)))
        .set((job_leases::holder.eq(holder), job_leases::expires_at.eq(Utc::now().naive_utc() + ttl)))
        .execute(conn)?;
    Ok(taken == 1)
}

/// Extends a lease `holder` still holds; false if it lost it.
pub fn renew(conn: &mut AnyConnection, name: &str, holder: &str, ttl: TimeDelta) -> Result<bool, StoreError> {
    let renewed = diesel::update(job_leases::table.find(name).filter(job_leases::holder.eq(holder)))
        .set(job_leases::expires_at.eq(Utc::now().naive_utc() + ttl))
        .execute(conn)?;
    Ok(renewed == 1)
}

/// Gives a lease up (no-op if `holder` no longer holds it).
pub fn release(conn: &mut AnyConnection, name: &str, holder: &str) -> Result<(), StoreError> {
    diesel::delete(job_leases::table.find(name).filter(job_leases::holder.eq(holder))).execute(conn)?;
    Ok(())
}

/// Who holds `name`, and until when.
pub fn holder(conn: &mut AnyConnection, name: &str) -> Result<Option<(String, NaiveDateTime)>, StoreError> {
    Ok(job_leases::table.find(name).select((job_leases::holder, job_leases::expires_at)).first(conn).optional()?)
}
