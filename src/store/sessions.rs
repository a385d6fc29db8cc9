//! Browser sessions (`web_sessions`): the console's now, sign-on's later. Only the SHA-256 of a
//! session's cookie token is stored, so a copy of the database opens no session; every node
//! finds every session, so nodes stay stateless.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::web_sessions;
use super::{AnyConnection, StoreError};

/// What a session was opened for (`web_sessions.kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionKind {
    /// A user signed on to open resources.
    Launch,
    /// An assignment manager in the console.
    Console,
}

impl SessionKind {
    pub fn code(self) -> &'static str {
        match self {
            SessionKind::Launch => "LAUNCH",
            SessionKind::Console => "CONSOLE",
        }
    }
}

/// An open session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub ent_id: String,
    /// GARPersonIdentifiant.
    pub gar_id: String,
    pub expires_at: NaiveDateTime,
}

/// Records a session under the hash of its token.
pub fn insert(
    conn: &mut AnyConnection,
    token_hash: &str,
    kind: SessionKind,
    session: &Session,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::insert_into(web_sessions::table)
        .values((
            web_sessions::id.eq(token_hash),
            web_sessions::kind.eq(kind.code()),
            web_sessions::ent_id.eq(&session.ent_id),
            web_sessions::gar_id.eq(&session.gar_id),
            web_sessions::created_at.eq(now),
            web_sessions::expires_at.eq(session.expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The unexpired session of that kind with that token hash.
pub fn find(
    conn: &mut AnyConnection,
    token_hash: &str,
    kind: SessionKind,
    now: NaiveDateTime,
) -> Result<Option<Session>, StoreError> {
    let row: Option<(String, String, NaiveDateTime)> = web_sessions::table
        .filter(web_sessions::id.eq(token_hash))
        .filter(web_sessions::kind.eq(kind.code()))
        .filter(web_sessions::expires_at.gt(now))
        .select((web_sessions::ent_id, web_sessions::gar_id, web_sessions::expires_at))
        .first(conn)
        .optional()?;
    Ok(row.map(|(ent_id, gar_id, expires_at)| Session { ent_id, gar_id, expires_at }))
}

/// Ends a session (logout); false when there was none.
pub fn delete(conn: &mut AnyConnection, token_hash: &str) -> Result<bool, StoreError> {
    Ok(diesel::delete(web_sessions::table.find(token_hash)).execute(conn)? == 1)
}

/// Deletes expired sessions; returns how many.
pub fn purge_expired(conn: &mut AnyConnection, now: NaiveDateTime) -> Result<usize, StoreError> {
    Ok(diesel::delete(web_sessions::table.filter(web_sessions::expires_at.le(now))).execute(conn)?)
}
