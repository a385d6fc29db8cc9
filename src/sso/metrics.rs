//! Prometheus metrics of sign-on, registered in the node's registry by `http::metrics`.
//! Counters are per process, like the request metrics.

use std::sync::LazyLock;

use prometheus::{IntCounterVec, Opts, Registry};

static TURNAWAYS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    IntCounterVec::new(
        Opts::new("sesame_turnaways_total", "Launches refused because the resource is not assigned, by publisher"),
        &["publisher"],
    )
    .expect("valid metric")
});

static LAUNCHES: LazyLock<IntCounterVec> = LazyLock::new(|| {
    IntCounterVec::new(
        Opts::new("sesame_launches_total", "Resource launches, by outcome (released or a refusal code)"),
        &["outcome"],
    )
    .expect("valid metric")
});

static REFUSALS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    IntCounterVec::new(
        Opts::new("sesame_sso_refusals_total", "SAML messages refused, by endpoint and reason code"),
        &["endpoint", "reason"],
    )
    .expect("valid metric")
});

static METADATA_REFRESHES: LazyLock<IntCounterVec> = LazyLock::new(|| {
    IntCounterVec::new(
        Opts::new("sesame_metadata_refreshes_total", "Partner metadata refreshes from their URL, by role and outcome"),
        &["role", "outcome"],
    )
    .expect("valid metric")
});

/// Adds the sign-on metrics to a registry.
pub fn register(registry: &Registry) -> prometheus::Result<()> {
    registry.register(Box::new(TURNAWAYS.clone()))?;
    registry.register(Box::new(LAUNCHES.clone()))?;
    registry.register(Box::new(REFUSALS.clone()))?;
    registry.register(Box::new(METADATA_REFRESHES.clone()))
}

pub(super) fn turnaway(publisher: &str) {
    TURNAWAYS.with_label_values(&[publisher]).inc();
}

pub(super) fn launch(outcome: &str) {
    LAUNCHES.with_label_values(&[outcome]).inc();
}

pub(super) fn refused(endpoint: &str, reason: &str) {
    REFUSALS.with_label_values(&[endpoint, reason]).inc();
}

pub(super) fn metadata_refresh(role: &str, outcome: &str) {
    METADATA_REFRESHES.with_label_values(&[role, outcome]).inc();
}
