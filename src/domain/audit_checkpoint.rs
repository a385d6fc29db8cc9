//! Signed checkpoints of the audit chain, and the boundaries retention purges leave behind.
//!
//! A CHECKPOINT vouches for the chain up to `last_seq` (its event must still carry `hash`), so
//! rewriting or cutting events before it is detected even though the hashes themselves are not
//! secret. A SEGMENT is written by a retention purge: the chain after it starts from
//! (`last_seq`, `hash`), and the events the purge kept at or before `last_seq` are pinned by
//! their count and a digest of their `seq:hash` lines, because a purge deletes events here and
//! there (old releases) rather than a prefix.

use std::fmt;

use aws_lc_rs::digest;
use chrono::NaiveDateTime;

use super::audit::format_at;

/// Which kind of signed statement a checkpoint is; the code is `audit_checkpoints.kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckpointKind {
    Checkpoint,
    Segment,
}

impl CheckpointKind {
    pub fn code(self) -> &'static str {
        match self {
            CheckpointKind::Checkpoint => "CHECKPOINT",
            CheckpointKind::Segment => "SEGMENT",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        [CheckpointKind::Checkpoint, CheckpointKind::Segment].into_iter().find(|kind| kind.code() == code)
    }
}

impl fmt::Display for CheckpointKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The events a purge kept at or before a segment boundary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeptEvents {
    pub count: i64,
    /// SHA-256 of `"{seq}:{hash}\n"` for each kept event in sequence order, lower-case hex.
    pub digest: String,
}

/// Builds a `KeptEvents` from events fed in sequence order.
pub struct KeptDigest {
    context: digest::Context,
    count: i64,
}

impl Default for KeptDigest {
    fn default() -> Self {
        Self { context: digest::Context::new(&digest::SHA256), count: 0 }
    }
}

impl KeptDigest {
    pub fn add(&mut self, seq: i64, hash: &str) {
        self.context.update(format!("{seq}:{hash}\n").as_bytes());
        self.count += 1;
    }

    pub fn count(&self) -> i64 {
        self.count
    }

    pub fn finish(self) -> KeptEvents {
        KeptEvents { count: self.count, digest: hex::encode(self.context.finish()) }
    }
}

/// What a checkpoint states, before or after signing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub kind: CheckpointKind,
    pub last_seq: i64,
    /// Hash of event `last_seq` (`GENESIS_HASH` for an empty log).
    pub hash: String,
    /// Microsecond precision, like every stored timestamp.
    pub at: NaiveDateTime,
    /// SEGMENT only.
    pub kept: Option<KeptEvents>,
}

impl Checkpoint {
    /// The exact bytes that are signed: a versioned, line-based text with no ambiguity.
    pub fn signed_message(&self) -> String {
        let mut text = format!(
            "sesame-audit-checkpoint/1\nkind={}\nlast_seq={}\nhash={}\nat={}\n",
            self.kind,
            self.last_seq,
            self.hash,
            format_at(self.at)
        );
        if let Some(kept) = &self.kept {
            text.push_str(&format!("kept_events={}\nkept_digest={}\n", kept.count, kept.digest));
        }
        text
    }
}

/// A checkpoint as stored, with its signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    pub id: i64,
    pub checkpoint: Checkpoint,
    /// Base64 RSA-PKCS#1 v1.5 SHA-256 signature of `signed_message()`.
    pub signature: String,
    /// SHA-256 of the signing certificate (DER), lower-case hex.
    pub key_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap().and_hms_micro_opt(9, 0, 0, 5).unwrap()
    }

    #[test]
    fn message_names_every_signed_value() {
        let mut checkpoint =
            Checkpoint { kind: CheckpointKind::Checkpoint, last_seq: 7, hash: "ab".into(), at: at(), kept: None };
        assert_eq!(
            checkpoint.signed_message(),
            "sesame-audit-checkpoint/1\nkind=CHECKPOINT\nlast_seq=7\nhash=ab\nat=2026-11-25T09:00:00.000005\n"
        );
        checkpoint.kind = CheckpointKind::Segment;
        checkpoint.kept = Some(KeptEvents { count: 3, digest: "cd".into() });
        assert!(checkpoint.signed_message().ends_with(
            "kind=SEGMENT\nlast_seq=7\nhash=ab\nat=2026-11-25T09:00:00.000005\nkept_events=3\nkept_digest=cd\n"
        ));
    }

    #[test]
    fn kept_digest_depends_on_order_and_members() {
        let digest = |events: &[(i64, &str)]| {
            let mut kept = KeptDigest::default();
            for (seq, hash) in events {
                kept.add(*seq, hash);
            }
            kept.finish()
        };
        let base = digest(&[(1, "a"), (3, "c")]);
        assert_eq!(base.count, 2);
        assert_ne!(base, digest(&[(3, "c"), (1, "a")]));
        assert_ne!(base, digest(&[(1, "a"), (3, "x")]));
        assert_ne!(base.digest, digest(&[(1, "a"), (2, "b"), (3, "c")]).digest);
        assert_eq!(digest(&[]).digest, hex::encode(digest::digest(&digest::SHA256, b"")));
    }

    #[test]
    fn kinds_round_trip() {
        for kind in [CheckpointKind::Checkpoint, CheckpointKind::Segment] {
            assert_eq!(CheckpointKind::parse(kind.code()), Some(kind));
        }
        assert_eq!(CheckpointKind::parse("OTHER"), None);
    }
}
