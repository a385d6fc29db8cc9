//! Leases that let one node at a time run a scheduled job.
//!
//! A lease is held until `expires_at`; a holder that keeps it for the job's whole period makes the
//! job run at most once per period across every node, and restarts do not rerun it early.

use chrono::{NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::schema::job_leases;
use super::{AnyConnection, StoreError, write_transaction};

/// Takes the lease `name` for `holder` until `until` if it is free, expired or already `holder`'s.
/// Returns whether `holder` now has it.
pub fn try_acquire(
    conn: &mut AnyConnection,
    name: &str,
    holder: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> Result<bool, StoreError> {
    write_transaction(conn, |conn| {
        let taken = diesel::update(
            job_leases::table
                .filter(job_leases::name.eq(name))
                .filter(job_leases::expires_at.le(now).or(job_leases::holder.eq(holder))),
        )
        .set((job_leases::holder.eq(holder), job_leases::expires_at.eq(until)))
        .execute(conn)?;
        if taken == 1 {
            return Ok(true);
        }
        // No row yet, or someone else's live lease. A savepoint keeps a lost insert race from
        // aborting the surrounding PostgreSQL transaction.
        let inserted = write_transaction(conn, |conn| {
            diesel::insert_into(job_leases::table)
                .values((job_leases::name.eq(name), job_leases::holder.eq(holder), job_leases::expires_at.eq(until)))
                .execute(conn)
        });
        match inserted {
            Ok(_) => Ok(true),
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    })
}

/// Gives a lease back early (after a failed run, so another node may retry).
pub fn release(conn: &mut AnyConnection, name: &str, holder: &str) -> Result<(), StoreError> {
    diesel::delete(job_leases::table.filter(job_leases::name.eq(name)).filter(job_leases::holder.eq(holder)))
        .execute(conn)?;
    Ok(())
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

/// Who holds `name`, and until when.
pub fn holder(conn: &mut AnyConnection, name: &str) -> Result<Option<(String, NaiveDateTime)>, StoreError> {
    Ok(job_leases::table.find(name).select((job_leases::holder, job_leases::expires_at)).first(conn).optional()?)
}
