//! Writing signed checkpoints of the audit chain: on a schedule (every N events or T seconds,
//! see `jobs`), at the end of `sesame audit verify`, and as segment boundaries when a purge runs.

use chrono::{DurationRound, NaiveDateTime, TimeDelta};

use super::error::AuditError;
use super::signing::Signer;
use crate::domain::audit_checkpoint::{Checkpoint, CheckpointKind, KeptEvents, SignedCheckpoint};
use crate::store::{AnyConnection, audit, audit_checkpoints};

/// Signs `checkpoint` and stores it.
pub fn store_signed(
    conn: &mut AnyConnection,
    signer: &Signer,
    mut checkpoint: Checkpoint,
) -> Result<SignedCheckpoint, AuditError> {
    // Stored timestamps keep microseconds; signing more would not verify after a round trip.
    checkpoint.at = checkpoint.at.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(checkpoint.at);
    let signature = signer.sign(checkpoint.signed_message().as_bytes())?;
    let id = audit_checkpoints::insert(conn, &checkpoint, &signature, signer.key_id())?;
    tracing::info!(
        checkpoint.id = id,
        checkpoint.kind = %checkpoint.kind,
        checkpoint.last_seq = checkpoint.last_seq,
        checkpoint.hash = %checkpoint.hash,
        "audit checkpoint signed"
    );
    super::metrics::checkpoint_signed(checkpoint.kind);
    Ok(SignedCheckpoint { id, checkpoint, signature, key_id: signer.key_id().to_owned() })
}

/// Signs a CHECKPOINT of the current last event, if the log has events the newest checkpoint does
/// not cover yet.
pub fn checkpoint_head(
    conn: &mut AnyConnection,
    signer: &Signer,
    now: NaiveDateTime,
) -> Result<Option<SignedCheckpoint>, AuditError> {
    let Some((last_seq, hash)) = audit::head(conn)? else { return Ok(None) };
    if audit_checkpoints::latest(conn)?.is_some_and(|latest| latest.checkpoint.last_seq >= last_seq) {
        return Ok(None);
    }
    let checkpoint = Checkpoint { kind: CheckpointKind::Checkpoint, last_seq, hash, at: now, kept: None };
    store_signed(conn, signer, checkpoint).map(Some)
}

/// When the scheduled job signs a checkpoint.
#[derive(Clone, Copy, Debug)]
pub struct Schedule {
    pub every_events: u64,
    pub every: TimeDelta,
}

/// Signs a checkpoint when `every_events` events were appended since the newest one, or `every`
/// has passed since it and at least one event was.
pub fn checkpoint_if_due(
    conn: &mut AnyConnection,
    signer: &Signer,
    schedule: Schedule,
    now: NaiveDateTime,
) -> Result<Option<SignedCheckpoint>, AuditError> {
    let Some((head, _)) = audit::head(conn)? else { return Ok(None) };
    let due = match audit_checkpoints::latest(conn)? {
        None => true,
        Some(latest) => {
            let new_events = head - latest.checkpoint.last_seq;
            let events_due = u64::try_from(new_events).is_ok_and(|n| n >= schedule.every_events);
            new_events > 0 && (events_due || now - latest.checkpoint.at >= schedule.every)
        }
    };
    if due { checkpoint_head(conn, signer, now) } else { Ok(None) }
}

/// Signs a SEGMENT boundary: the chain after it starts from (`last_seq`, `hash`), and the events a
/// purge kept at or before it are `kept`.
pub fn segment(
    conn: &mut AnyConnection,
    signer: &Signer,
    last_seq: i64,
    hash: String,
    kept: KeptEvents,
    now: NaiveDateTime,
) -> Result<SignedCheckpoint, AuditError> {
    store_signed(conn, signer, Checkpoint { kind: CheckpointKind::Segment, last_seq, hash, at: now, kept: Some(kept) })
}
