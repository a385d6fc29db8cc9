//! Verifying the audit log: every checkpoint signature, the events a purge kept before the latest
//! segment boundary, the unbroken chain after it, and that the chain still reaches every checkpoint.
//!
//! What is detected: an event modified, inserted, deleted or moved anywhere (by its hash, its link
//! to the previous event, or the signed list of events kept before a purge boundary); events cut
//! from the end up to the newest checkpoint; a forged, altered or removed segment boundary; a
//! checkpoint whose signature is not from a trusted key. What is not: events after the newest
//! checkpoint can be rewritten consistently or cut by someone with write access to the database,
//! since the chain's hashes are not secret; checkpoints bound that window (`audit.checkpoint_*`).
//! Before the first checkpoint, the whole log is in that window.

use std::collections::BTreeMap;

use super::signing::{SignatureProblem, TrustedKeys};
use crate::domain::audit::{ChainError, GENESIS_HASH, StoredEvent, verify_chain};
use crate::domain::audit_checkpoint::{CheckpointKind, KeptDigest, SignedCheckpoint};
use crate::store::{AnyConnection, StoreError, audit, audit_checkpoints, read_snapshot};

/// Events read per query.
const BATCH: i64 = 10_000;

/// Where and how the log was found tampered with.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Tampering {
    #[error("{0}")]
    Chain(#[from] ChainError),
    #[error(
        "event {seq}: its content does not match its hash (modified); it was kept by the purge at event {boundary}"
    )]
    KeptModified { seq: i64, boundary: i64 },
    #[error(
        "the events kept at or before the purge boundary at event {boundary} are not the signed ones \
         ({expected} signed, {found} present): an event was deleted, inserted or replaced there"
    )]
    KeptChanged { boundary: i64, expected: i64, found: i64 },
    #[error("checkpoint #{id} ({kind} at event {last_seq}): {problem}")]
    Signature { id: i64, kind: CheckpointKind, last_seq: i64, problem: SignatureProblem },
    #[error("event {last_seq}: its hash is not the one checkpoint #{id} signed (events up to it were rewritten)")]
    CheckpointMismatch { id: i64, last_seq: i64 },
    #[error(
        "the log ends at event {head} but checkpoint #{id} signed events up to {last_seq}: events were cut from the end"
    )]
    Truncated { id: i64, last_seq: i64, head: i64 },
}

impl Tampering {
    /// The first event found bad, when one can be named.
    pub fn first_bad_event(&self) -> Option<i64> {
        match self {
            Tampering::Chain(
                ChainError::Modified { seq } | ChainError::Broken { seq, .. } | ChainError::Gap { seq, .. },
            ) => Some(*seq),
            Tampering::KeptModified { seq, .. } => Some(*seq),
            Tampering::CheckpointMismatch { last_seq, .. } => Some(*last_seq),
            Tampering::Truncated { head, .. } => Some(head + 1),
            Tampering::KeptChanged { .. } | Tampering::Signature { .. } => None,
        }
    }
}

/// What a successful verification covered.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verified {
    /// Events checked.
    pub events: u64,
    /// The last event's sequence number and hash.
    pub head: Option<(i64, String)>,
    /// The latest segment boundary the chain starts from, if a purge ran.
    pub boundary: Option<i64>,
    /// Checkpoints whose signatures were checked.
    pub checkpoints: usize,
    /// The newest checkpoint's event: events after it are protected by the chain only.
    pub last_checkpoint: Option<i64>,
}

/// The outcome of reading the whole log.
pub type Outcome = Result<Verified, Tampering>;

/// Verifies the log on one snapshot. `on_event` sees every event read, in order (a purge computes
/// what it keeps on the same pass); `progress` gets the number of events read so far.
pub fn verify(
    conn: &mut AnyConnection,
    trusted: &TrustedKeys,
    mut on_event: impl FnMut(&StoredEvent),
    progress: &dyn Fn(u64),
) -> Result<Outcome, StoreError> {
    read_snapshot(conn, |conn| {
        let checkpoints = audit_checkpoints::all(conn)?;
        if let Err(tampering) = check_signatures(&checkpoints, trusted) {
            return Ok(Err(tampering));
        }
        let mut scan = Scan::new(&checkpoints);
        let mut after = 0;
        loop {
            let batch = audit::events_after(conn, after, BATCH)?;
            let Some(last) = batch.last() else { break };
            after = last.seq;
            for event in &batch {
                on_event(event);
            }
            if let Err(tampering) = scan.feed(&batch) {
                return Ok(Err(tampering));
            }
            progress(scan.verified.events);
        }
        Ok(scan.finish())
    })
}

fn check_signatures(checkpoints: &[SignedCheckpoint], trusted: &TrustedKeys) -> Result<(), Tampering> {
    for signed in checkpoints {
        let checkpoint = &signed.checkpoint;
        if let Err(problem) = trusted.verify(&signed.key_id, checkpoint.signed_message().as_bytes(), &signed.signature)
        {
            return Err(Tampering::Signature {
                id: signed.id,
                kind: checkpoint.kind,
                last_seq: checkpoint.last_seq,
                problem,
            });
        }
    }
    Ok(())
}

/// The state of one pass over the events.
struct Scan<'a> {
    /// The latest segment boundary (by position in the chain), if any.
    boundary: Option<&'a SignedCheckpoint>,
    kept: KeptDigest,
    kept_checked: bool,
    /// (seq, hash) the next event after the boundary must follow.
    previous: (i64, String),
    /// Checkpoints by the event they vouch for, newest first for the same event.
    vouched: BTreeMap<i64, Vec<&'a SignedCheckpoint>>,
    verified: Verified,
}

impl<'a> Scan<'a> {
    fn new(checkpoints: &'a [SignedCheckpoint]) -> Self {
        let boundary = checkpoints
            .iter()
            .filter(|signed| signed.checkpoint.kind == CheckpointKind::Segment)
            .max_by_key(|signed| (signed.checkpoint.last_seq, signed.id));
        let previous = boundary
            .map(|signed| (signed.checkpoint.last_seq, signed.checkpoint.hash.clone()))
            .unwrap_or_else(|| (0, GENESIS_HASH.to_owned()));
        let mut vouched: BTreeMap<i64, Vec<&SignedCheckpoint>> = BTreeMap::new();
        for signed in checkpoints {
            vouched.entry(signed.checkpoint.last_seq).or_default().push(signed);
        }
        let verified = Verified {
            boundary: boundary.map(|signed| signed.checkpoint.last_seq),
            checkpoints: checkpoints.len(),
            last_checkpoint: checkpoints.iter().map(|signed| signed.checkpoint.last_seq).max(),
            ..Verified::default()
        };
        Self { boundary, kept: KeptDigest::default(), kept_checked: boundary.is_none(), previous, vouched, verified }
    }

    fn feed(&mut self, events: &[StoredEvent]) -> Result<(), Tampering> {
        let boundary_seq = self.boundary.map_or(0, |signed| signed.checkpoint.last_seq);
        let split = events.partition_point(|event| event.seq <= boundary_seq);
        let (kept, chained) = events.split_at(split);
        for event in kept {
            if event.expected_hash() != event.hash {
                return Err(Tampering::KeptModified { seq: event.seq, boundary: boundary_seq });
            }
            self.kept.add(event.seq, &event.hash);
        }
        if !chained.is_empty() {
            self.check_kept()?;
            if let Some(last) = verify_chain((self.previous.0, &self.previous.1), chained)? {
                self.previous = last;
            }
        }
        for event in events {
            self.check_vouched(event)?;
        }
        self.verified.events += events.len() as u64;
        if let Some(last) = events.last() {
            self.verified.head = Some((last.seq, last.hash.clone()));
        }
        Ok(())
    }

    /// Once past the boundary: the kept events must be exactly the signed ones.
    fn check_kept(&mut self) -> Result<(), Tampering> {
        if self.kept_checked {
            return Ok(());
        }
        self.kept_checked = true;
        let Some(boundary) = self.boundary else { return Ok(()) };
        let found = std::mem::take(&mut self.kept).finish();
        // A segment always lists its kept events (the signature covers them).
        match &boundary.checkpoint.kept {
            Some(expected) if *expected == found => Ok(()),
            expected => Err(Tampering::KeptChanged {
                boundary: boundary.checkpoint.last_seq,
                expected: expected.as_ref().map_or(0, |kept| kept.count),
                found: found.count,
            }),
        }
    }

    fn check_vouched(&self, event: &StoredEvent) -> Result<(), Tampering> {
        for signed in self.vouched.get(&event.seq).into_iter().flatten() {
            if signed.checkpoint.hash != event.hash {
                return Err(Tampering::CheckpointMismatch { id: signed.id, last_seq: event.seq });
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Outcome {
        self.check_kept()?;
        let head = self.verified.head.as_ref().map_or(0, |(seq, _)| *seq).max(self.previous.0);
        // A checkpoint past the last event: the end of the log was cut. (A purge may have deleted
        // the event of an older checkpoint at or before the boundary; that one is not missing.)
        if let Some((&last_seq, signed)) = self.vouched.iter().next_back()
            && last_seq > head
        {
            return Err(Tampering::Truncated { id: signed[0].id, last_seq, head });
        }
        Ok(self.verified)
    }
}
