//! The append-only audit log: one chained row per event.

use chrono::{DurationRound, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::schema::audit_events;
use super::{AnyConnection, StoreError, write_transaction};
use crate::domain::audit::{AuditEvent, AuditKind, GENESIS_HASH, StoredEvent, chain_hash};

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

/// An `audit_events` row, read with `EventRow::as_select()`.
#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_events)]
struct EventRow {
    seq: i64,
    at: NaiveDateTime,
    kind: String,
    actor: String,
    ent_id: Option<String>,
    uai: Option<String>,
    subject: Option<String>,
    details: String,
    prev_hash: String,
    hash: String,
}

fn stored(row: EventRow) -> StoredEvent {
    let EventRow { seq, at, kind, actor, ent_id, uai, subject, details, prev_hash, hash } = row;
    StoredEvent { seq, at, kind, actor, ent_id, uai, subject, details, prev_hash, hash }
}

/// Events with `seq > after`, in order, at most `limit` of them.
pub fn events_after(conn: &mut AnyConnection, after: i64, limit: i64) -> Result<Vec<StoredEvent>, StoreError> {
    let rows: Vec<EventRow> = audit_events::table
        .filter(audit_events::seq.gt(after))
        .order(audit_events::seq)
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(stored).collect())
}

/// The last event's (seq, hash), if any.
pub fn head(conn: &mut AnyConnection) -> Result<Option<(i64, String)>, StoreError> {
    Ok(audit_events::table
        .select((audit_events::seq, audit_events::hash))
        .order(audit_events::seq.desc())
        .first(conn)
        .optional()?)
}

/// How many events the log holds (for progress reports).
pub fn count(conn: &mut AnyConnection) -> Result<i64, StoreError> {
    Ok(audit_events::table.count().get_result(conn)?)
}

/// Every event about one person (their audit pseudonym), in order.
pub fn events_of_subject(conn: &mut AnyConnection, subject: &str) -> Result<Vec<StoredEvent>, StoreError> {
    let rows: Vec<EventRow> = audit_events::table
        .filter(audit_events::subject.eq(subject))
        .order(audit_events::seq)
        .select(EventRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(stored).collect())
}

/// Which events of a period to read.
#[derive(Clone, Debug, Default)]
pub struct PeriodFilter<'a> {
    /// `at >= from`.
    pub from: Option<NaiveDateTime>,
    /// `at < until`.
    pub until: Option<NaiveDateTime>,
    /// Only these kinds (codes); empty = all.
    pub kinds: &'a [&'a str],
    pub uai: Option<&'a str>,
    /// Only events whose `details` text contains this, a cheap pre-filter callers confirm on the
    /// parsed JSON (LIKE wildcards in it are escaped).
    pub details_contain: Option<&'a str>,
}

/// One page of the events matching `filter` with `seq > after`, in sequence order.
pub fn events_matching(
    conn: &mut AnyConnection,
    filter: &PeriodFilter<'_>,
    after: i64,
    limit: i64,
) -> Result<Vec<StoredEvent>, StoreError> {
    let mut query = audit_events::table.filter(audit_events::seq.gt(after)).into_boxed();
    if let Some(from) = filter.from {
        query = query.filter(audit_events::at.ge(from));
    }
    if let Some(until) = filter.until {
        query = query.filter(audit_events::at.lt(until));
    }
    if !filter.kinds.is_empty() {
        query = query.filter(audit_events::kind.eq_any(filter.kinds));
    }
    if let Some(uai) = filter.uai {
        query = query.filter(audit_events::uai.eq(uai));
    }
    if let Some(text) = filter.details_contain {
        let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        query = query.filter(audit_events::details.like(format!("%{escaped}%")).escape('\\'));
    }
    let rows: Vec<EventRow> = query.order(audit_events::seq).limit(limit).select(EventRow::as_select()).load(conn)?;
    Ok(rows.into_iter().map(stored).collect())
}

/// Events a purge deletes, counted apart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedEvents {
    /// `release` and `turnaway` traces.
    pub release_traces: usize,
    pub other: usize,
}

impl DeletedEvents {
    pub fn total(&self) -> usize {
        self.release_traces + self.other
    }
}

/// Deletes events up to `last_seq` older than their kind's cutoff: release traces before
/// `release_cutoff`, every other kind before `other_cutoff`.
pub fn delete_due(
    conn: &mut AnyConnection,
    last_seq: i64,
    release_cutoff: NaiveDateTime,
    other_cutoff: NaiveDateTime,
) -> Result<DeletedEvents, StoreError> {
    let traces = [AuditKind::Release.code(), AuditKind::Turnaway.code()];
    let release_traces = diesel::delete(
        audit_events::table
            .filter(audit_events::seq.le(last_seq))
            .filter(audit_events::kind.eq_any(traces))
            .filter(audit_events::at.lt(release_cutoff)),
    )
    .execute(conn)?;
    let other = diesel::delete(
        audit_events::table
            .filter(audit_events::seq.le(last_seq))
            .filter(audit_events::kind.ne_all(traces))
            .filter(audit_events::at.lt(other_cutoff)),
    )
    .execute(conn)?;
    Ok(DeletedEvents { release_traces, other })
}
