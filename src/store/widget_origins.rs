//! Web origins allowed to embed the médiacentre widget for an ENT project (CORS allow-list).

use chrono::Utc;
use diesel::prelude::*;

use super::schema::ent_widget_origins;
use super::{AnyConnection, StoreError};

/// Allows `origin` for `ent_id`; `false` when it already was.
pub fn add(conn: &mut AnyConnection, ent_id: &str, origin: &str) -> Result<bool, StoreError> {
    let known: bool =
        diesel::select(diesel::dsl::exists(ent_widget_origins::table.find((ent_id, origin)))).get_result(conn)?;
    if known {
        return Ok(false);
    }
    diesel::insert_into(ent_widget_origins::table)
        .values((
            ent_widget_origins::ent_id.eq(ent_id),
            ent_widget_origins::origin.eq(origin),
            ent_widget_origins::created_at.eq(Utc::now().naive_utc()),
        ))
        .execute(conn)?;
    Ok(true)
}

/// Withdraws `origin` from `ent_id`; `false` when it was not allowed.
pub fn remove(conn: &mut AnyConnection, ent_id: &str, origin: &str) -> Result<bool, StoreError> {
    Ok(diesel::delete(ent_widget_origins::table.find((ent_id, origin))).execute(conn)? > 0)
}

/// The origins allowed for `ent_id`, sorted.
pub fn list(conn: &mut AnyConnection, ent_id: &str) -> Result<Vec<String>, StoreError> {
    Ok(ent_widget_origins::table
        .filter(ent_widget_origins::ent_id.eq(ent_id))
        .select(ent_widget_origins::origin)
        .order(ent_widget_origins::origin)
        .load(conn)?)
}

/// Whether `origin` is allowed for `ent_id`.
pub fn is_allowed(conn: &mut AnyConnection, ent_id: &str, origin: &str) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(ent_widget_origins::table.find((ent_id, origin)))).get_result(conn)?)
}

/// Whether any ENT project allows `origin` (CORS preflights carry no token, hence no ENT).
pub fn is_known(conn: &mut AnyConnection, origin: &str) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(ent_widget_origins::table.filter(ent_widget_origins::origin.eq(origin))))
        .get_result(conn)?)
}
