//! The one-row table that tells the set-based SQL which ENT project, degree and time an import is
//! about, so the statements need no backend-specific bind syntax.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text, Timestamp};

use crate::store::{AnyConnection, StoreError};

/// Creates (again) the context of the import on this connection.
pub fn set(conn: &mut AnyConnection, ent_id: &str, degree: u8, now: NaiveDateTime) -> Result<(), StoreError> {
    diesel::sql_query("DROP TABLE IF EXISTS feed_stage_context").execute(conn)?;
    diesel::sql_query(
        "CREATE TEMP TABLE feed_stage_context (ent_id TEXT NOT NULL, degree INTEGER NOT NULL, now TIMESTAMP NOT NULL)",
    )
    .execute(conn)?;
    diesel::sql_query("INSERT INTO feed_stage_context (ent_id, degree, now) VALUES ($1, $2, $3)")
        .bind::<Text, _>(ent_id)
        .bind::<Integer, _>(i32::from(degree))
        .bind::<Timestamp, _>(now)
        .execute(conn)?;
    Ok(())
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Runs `SELECT COUNT(*) AS n …` (or any query with one BIGINT column `n`).
pub fn count(conn: &mut AnyConnection, sql: &str) -> Result<u64, StoreError> {
    let row: Count = diesel::sql_query(sql).get_result(conn)?;
    Ok(u64::try_from(row.n).unwrap_or(0))
}
