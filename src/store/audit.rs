//! The append-only audit log: one chained row per event.

use chrono::{DurationRound, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::schema::audit_events;
use super::{AnyConnection, StoreError, write_transaction};
use crate::domain::audit::{AuditEvent, GENESIS_HASH, StoredEvent, chain_hash};

/// Any constant: the PostgreSQL advisory lock that serializes appends across nodes.
const CHAIN_LOCK: i64 = 0x5345_5341_4d45; // "SESAME"

/// Appends an event after the current last one and returns its sequence number.
///
/// Call it inside the transaction that makes the change, so the change and its event commit
/// together. Appends are serialized (SQLite's write lock, a PostgreSQL advisory lock held to the
/// end of the transaction), which is what lets each event name its predecessor's hash.
pub fn append(conn: &mut AnyConnection, event: &AuditEvent) -> Result<i64, StoreError> {
    append_at(conn, event, Utc::now().naive_utc())
}

/// Serializes the caller's transaction with every other appender until it ends (PostgreSQL; an
/// SQLite write transaction already holds the database lock).
///
/// Work that reads rows, changes them and records events (the licence ledger) takes this first,
/// before reading anything: taking it at the first `append` instead, after row locks, could
/// deadlock against another transaction doing the same in the other order.
pub fn lock_chain(conn: &mut AnyConnection) -> Result<(), StoreError> {
    if let AnyConnection::Postgresql(_) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)").bind::<BigInt, _>(CHAIN_LOCK).execute(conn)?;
    }
    Ok(())
}

/// As `append`, at a given time (tests, imports of past events).
pub fn append_at(conn: &mut AnyConnection, event: &AuditEvent, at: NaiveDateTime) -> Result<i64, StoreError> {
    // Both backends store microseconds; hashing more would not verify after a round trip.
    let at = at.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(at);
    let details = serde_json::to_string(&event.details).expect("a JSON value always serializes");
    write_transaction(conn, |conn| {
        lock_chain(conn)?;
        let last: Option<(i64, String)> = audit_events::table
            .select((audit_events::seq, audit_events::hash))
            .order(audit_events::seq.desc())
            .first(conn)
            .optional()?;
        let (prev_seq, prev_hash) = last.unwrap_or_else(|| (0, GENESIS_HASH.to_owned()));
        let seq = prev_seq + 1;
        let hash = chain_hash(
            &prev_hash,
            seq,
            at,
            event.kind.code(),
            event.actor.as_str(),
            event.ent_id.as_deref(),
            event.uai.as_deref(),
            event.subject.as_deref(),
            &details,
        );
        diesel::insert_into(audit_events::table)
            .values((
                audit_events::seq.eq(seq),
                audit_events::at.eq(at),
                audit_events::kind.eq(event.kind.code()),
                audit_events::actor.eq(event.actor.as_str()),
                audit_events::ent_id.eq(event.ent_id.as_deref()),
                audit_events::uai.eq(event.uai.as_deref()),
                audit_events::subject.eq(event.subject.as_deref()),
                audit_events::details.eq(&details),
                audit_events::prev_hash.eq(&prev_hash),
                audit_events::hash.eq(&hash),
            ))
            .execute(conn)?;
        Ok(seq)
    })
}

type EventRow =
    (i64, NaiveDateTime, String, String, Option<String>, Option<String>, Option<String>, String, String, String);

/// Events with `seq > after`, in order, at most `limit` of them.
pub fn events_after(conn: &mut AnyConnection, after: i64, limit: i64) -> Result<Vec<StoredEvent>, StoreError> {
    let rows: Vec<EventRow> = audit_events::table
        .filter(audit_events::seq.gt(after))
        .order(audit_events::seq)
        .limit(limit)
        .select((
            audit_events::seq,
            audit_events::at,
            audit_events::kind,
            audit_events::actor,
            audit_events::ent_id,
            audit_events::uai,
            audit_events::subject,
            audit_events::details,
            audit_events::prev_hash,
            audit_events::hash,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(seq, at, kind, actor, ent_id, uai, subject, details, prev_hash, hash)| StoredEvent {
            seq,
            at,
            kind,
            actor,
            ent_id,
            uai,
            subject,
            details,
            prev_hash,
            hash,
        })
        .collect())
}
