//! Prometheus metrics of imports run by the server (API and drop folder), registered with the
//! node's other metrics (`http::metrics`).

use std::sync::LazyLock;

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

use super::import::Outcome;

struct FeedMetrics {
    imports: IntCounterVec,
    rejected: IntCounterVec,
    duration: HistogramVec,
}

static METRICS: LazyLock<FeedMetrics> = LazyLock::new(|| FeedMetrics {
    imports: IntCounterVec::new(
        Opts::new("sesame_feed_imports_total", "Directory exports received, by outcome"),
        &["ent", "status"],
    )
    .expect("valid metric"),
    rejected: IntCounterVec::new(
        Opts::new("sesame_feed_rejected_elements_total", "Elements refused in directory exports"),
        &["ent"],
    )
    .expect("valid metric"),
    duration: HistogramVec::new(
        HistogramOpts::new("sesame_feed_import_duration_seconds", "Time to read, check and apply an export")
            .buckets(vec![0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 900.0]),
        &["ent", "status"],
    )
    .expect("valid metric"),
});

/// Adds the feed's metrics to a node's registry.
pub fn register(registry: &Registry) -> prometheus::Result<()> {
    registry.register(Box::new(METRICS.imports.clone()))?;
    registry.register(Box::new(METRICS.rejected.clone()))?;
    registry.register(Box::new(METRICS.duration.clone()))?;
    Ok(())
}

/// Counts one import.
pub fn record(outcome: &Outcome) {
    let report = &outcome.report;
    let labels = [report.ent.as_str(), report.status.as_str()];
    METRICS.imports.with_label_values(&labels).inc();
    METRICS.rejected.with_label_values(&[report.ent.as_str()]).inc_by(report.rejected);
    let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
    if let (Some(start), Some(end)) = (parse(&report.started_at), report.finished_at.as_deref().and_then(parse)) {
        METRICS.duration.with_label_values(&labels).observe((end - start).as_seconds_f64());
    }
}
