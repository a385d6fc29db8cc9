//! Prometheus metrics: requests by route and status (per listener), pool gauges, build info.

use std::collections::HashMap;

use actix_web_prom::{PrometheusMetrics, PrometheusMetricsBuilder};
use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{IntGauge, IntGaugeVec, Opts, Registry};

use super::StartError;
use crate::store::Pool;

/// One registry; each listener gets its own middleware labelled with `listener`.
pub struct Metrics {
    pub public: PrometheusMetrics,
    pub mtls: PrometheusMetrics,
}

impl Metrics {
    pub fn new(pool: Pool) -> Result<Self, StartError> {
        let registry = Registry::new();
        let err = |e: prometheus::Error| StartError::Metrics(e.to_string());

        let build =
            IntGaugeVec::new(Opts::new("sesame_build_info", "Sesame build, always 1"), &["version"]).map_err(err)?;
        build.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        registry.register(Box::new(build)).map_err(err)?;
        registry.register(Box::new(PoolCollector::new(pool))).map_err(err)?;
        crate::audit::metrics::register(&registry).map_err(err)?;
        crate::feed::metrics::register(&registry).map_err(err)?;
        crate::sso::metrics::register(&registry).map_err(err)?;

        let middleware = |listener: &str, endpoint: Option<&str>| {
            let mut builder = PrometheusMetricsBuilder::new("sesame")
                .registry(registry.clone())
                .const_labels(HashMap::from([("listener".to_owned(), listener.to_owned())]))
                // Unmatched paths would carry whatever a client typed, ids included.
                .mask_unmatched_patterns("UNMATCHED");
            if let Some(endpoint) = endpoint {
                builder = builder.endpoint(endpoint).exclude(endpoint);
            }
            builder.build().map_err(|e| StartError::Metrics(e.to_string()))
        };
        Ok(Self { public: middleware("public", Some("/metrics"))?, mtls: middleware("mtls", None)? })
    }
}

/// Reads the pool's state at scrape time rather than tracking it on every checkout.
struct PoolCollector {
    pool: Pool,
    descs: Vec<Desc>,
}

const POOL_GAUGES: [(&str, &str); 3] = [
    ("sesame_db_pool_connections", "Open database connections"),
    ("sesame_db_pool_idle_connections", "Idle database connections"),
    ("sesame_db_pool_max_connections", "Configured maximum database connections"),
];

impl PoolCollector {
    fn new(pool: Pool) -> Self {
        let descs = POOL_GAUGES
            .iter()
            .map(|(name, help)| {
                Desc::new(name.to_string(), help.to_string(), vec![], HashMap::new()).expect("valid metric name")
            })
            .collect();
        Self { pool, descs }
    }
}

impl Collector for PoolCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let state = self.pool.state();
        let values = [state.connections, state.idle_connections, self.pool.max_size()];
        POOL_GAUGES
            .iter()
            .zip(values)
            .flat_map(|((name, help), value)| {
                let gauge = IntGauge::new(*name, *help).expect("valid metric name");
                gauge.set(i64::from(value));
                gauge.collect()
            })
            .collect()
    }
}
