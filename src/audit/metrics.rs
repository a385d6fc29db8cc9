//! Prometheus metrics of the audit capability, registered in the node's registry by
//! `http::metrics`. Counters are per process, like the request metrics.

use std::sync::LazyLock;

use prometheus::{IntCounterVec, Opts, Registry};

use crate::domain::audit_checkpoint::CheckpointKind;

static CHECKPOINTS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    IntCounterVec::new(Opts::new("sesame_audit_checkpoints_total", "Signed audit checkpoints, by kind"), &["kind"])
        .expect("valid metric")
});

static EXPORTS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    IntCounterVec::new(Opts::new("sesame_audit_exports_total", "Signed audit exports produced, by kind"), &["kind"])
        .expect("valid metric")
});

static PURGED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    IntCounterVec::new(
        Opts::new("sesame_retention_purged_total", "Rows removed by the retention job, by what they were"),
        &["what"],
    )
    .expect("valid metric")
});

static RUNS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    IntCounterVec::new(
        Opts::new("sesame_audit_job_runs_total", "Runs of the audit jobs (checkpoint, retention), by outcome"),
        &["job", "outcome"],
    )
    .expect("valid metric")
});

/// Adds the audit metrics to a registry.
pub fn register(registry: &Registry) -> prometheus::Result<()> {
    registry.register(Box::new(CHECKPOINTS.clone()))?;
    registry.register(Box::new(EXPORTS.clone()))?;
    registry.register(Box::new(PURGED.clone()))?;
    registry.register(Box::new(RUNS.clone()))
}

pub(super) fn checkpoint_signed(kind: CheckpointKind) {
    CHECKPOINTS.with_label_values(&[kind.code()]).inc();
}

pub(super) fn export_created(kind: &str) {
    EXPORTS.with_label_values(&[kind]).inc();
}

pub(super) fn purged(what: &str, rows: usize) {
    PURGED.with_label_values(&[what]).inc_by(rows as u64);
}

pub(super) fn job_run(job: &str, ok: bool) {
    RUNS.with_label_values(&[job, if ok { "ok" } else { "error" }]).inc();
}
