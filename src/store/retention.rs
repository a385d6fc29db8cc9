//! Deleting what the retention rules say is due: people long gone from the directory (with
//! `person_data::remove_person`), past school years of assignment history, expired sign-on state.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{
    assignment_history, assignment_seats, assignments, persons, saml_replay_cache, saml_requests, web_sessions,
};
use super::{AnyConnection, StoreError};

/// (persons.id, ent_id, gar_id) of people removed from the directory before `cutoff`.
pub fn removed_before(
    conn: &mut AnyConnection,
    cutoff: NaiveDateTime,
) -> Result<Vec<(i64, String, String)>, StoreError> {
    Ok(persons::table
        .filter(persons::removed_at.lt(cutoff))
        .order(persons::id)
        .select((persons::id, persons::ent_id, persons::gar_id))
        .load(conn)?)
}

/// What purging past school years removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryPurged {
    pub history: usize,
    pub released_seats: usize,
    pub revoked_assignments: usize,
}

/// Deletes assignment history from before `cutoff`, seats released before it, and assignments
/// revoked before it that nothing refers to any more.
pub fn purge_assignment_history(conn: &mut AnyConnection, cutoff: NaiveDateTime) -> Result<HistoryPurged, StoreError> {
    let history = diesel::delete(assignment_history::table.filter(assignment_history::at.lt(cutoff))).execute(conn)?;
    let released_seats = diesel::delete(
        assignment_seats::table
            .filter(assignment_seats::status.eq("RELEASED"))
            .filter(assignment_seats::released_at.lt(cutoff)),
    )
    .execute(conn)?;
    let referenced_by_seat = assignment_seats::table.filter(assignment_seats::assignment_id.eq(assignments::id));
    let referenced_by_history =
        assignment_history::table.filter(assignment_history::assignment_id.eq(assignments::id.nullable()));
    let revoked_assignments = diesel::delete(
        assignments::table
            .filter(assignments::revoked_at.lt(cutoff))
            .filter(diesel::dsl::not(diesel::dsl::exists(referenced_by_seat)))
            .filter(diesel::dsl::not(diesel::dsl::exists(referenced_by_history))),
    )
    .execute(conn)?;
    Ok(HistoryPurged { history, released_seats, revoked_assignments })
}

/// What purging expired sign-on state removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpiredPurged {
    pub saml_requests: usize,
    pub replay_cache: usize,
    pub sessions: usize,
}

/// Deletes AuthnRequests, replay-cache entries and browser sessions that expired before `now`.
pub fn purge_expired(conn: &mut AnyConnection, now: NaiveDateTime) -> Result<ExpiredPurged, StoreError> {
    Ok(ExpiredPurged {
        saml_requests: diesel::delete(saml_requests::table.filter(saml_requests::expires_at.lt(now))).execute(conn)?,
        replay_cache: diesel::delete(saml_replay_cache::table.filter(saml_replay_cache::expires_at.lt(now)))
            .execute(conn)?,
        sessions: diesel::delete(web_sessions::table.filter(web_sessions::expires_at.lt(now))).execute(conn)?,
    })
}
