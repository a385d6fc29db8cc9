//! Signed checkpoints and segment boundaries of the audit chain.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::audit_checkpoints;
use super::{AnyConnection, StoreError};
use crate::domain::audit_checkpoint::{Checkpoint, CheckpointKind, KeptEvents, SignedCheckpoint};

/// An `audit_checkpoints` row, read with `CheckpointRow::as_select()`.
#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_checkpoints)]
struct CheckpointRow {
    id: i64,
    kind: String,
    last_seq: i64,
    hash: String,
    signature: String,
    key_id: String,
    at: NaiveDateTime,
    kept_events: Option<i64>,
    kept_digest: Option<String>,
}

fn signed(row: CheckpointRow) -> SignedCheckpoint {
    let CheckpointRow { id, kind, last_seq, hash, signature, key_id, at, kept_events, kept_digest } = row;
    // The kind column has a CHECK constraint; a row that still fails to parse fails its signature.
    let kind = CheckpointKind::parse(&kind).unwrap_or(CheckpointKind::Checkpoint);
    let kept = match (kept_events, kept_digest) {
        (Some(count), Some(digest)) => Some(KeptEvents { count, digest }),
        _ => None,
    };
    SignedCheckpoint { id, checkpoint: Checkpoint { kind, last_seq, hash, at, kept }, signature, key_id }
}

/// Stores a signed checkpoint and returns its id.
pub fn insert(
    conn: &mut AnyConnection,
    checkpoint: &Checkpoint,
    signature: &str,
    key_id: &str,
) -> Result<i64, StoreError> {
    Ok(diesel::insert_into(audit_checkpoints::table)
        .values((
            audit_checkpoints::kind.eq(checkpoint.kind.code()),
            audit_checkpoints::last_seq.eq(checkpoint.last_seq),
            audit_checkpoints::hash.eq(&checkpoint.hash),
            audit_checkpoints::signature.eq(signature),
            audit_checkpoints::key_id.eq(key_id),
            audit_checkpoints::at.eq(checkpoint.at),
            audit_checkpoints::kept_events.eq(checkpoint.kept.as_ref().map(|kept| kept.count)),
            audit_checkpoints::kept_digest.eq(checkpoint.kept.as_ref().map(|kept| kept.digest.as_str())),
        ))
        .returning(audit_checkpoints::id)
        .get_result(conn)?)
}

/// Every checkpoint, oldest first.
pub fn all(conn: &mut AnyConnection) -> Result<Vec<SignedCheckpoint>, StoreError> {
    let rows: Vec<CheckpointRow> =
        audit_checkpoints::table.order(audit_checkpoints::id).select(CheckpointRow::as_select()).load(conn)?;
    Ok(rows.into_iter().map(signed).collect())
}

/// The newest checkpoint of either kind.
pub fn latest(conn: &mut AnyConnection) -> Result<Option<SignedCheckpoint>, StoreError> {
    let row: Option<CheckpointRow> = audit_checkpoints::table
        .order(audit_checkpoints::id.desc())
        .select(CheckpointRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(signed))
}
