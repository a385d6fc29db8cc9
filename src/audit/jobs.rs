//! The audit jobs inside `sesame serve`: signing checkpoints (every N events or T seconds) and
//! applying retention (every `retention.every_hours`). Several nodes may run: leases in the
//! database let one node at a time do each job, and the retention lease is kept for the whole
//! period, so the job runs once per period across nodes and restarts.

use std::sync::Arc;
use std::time::Duration;

use actix_web::rt::task::JoinHandle;
use actix_web::web;
use chrono::{NaiveDateTime, TimeDelta, Utc};

use super::checkpoint::{self, Schedule};
use super::metrics;
use super::retention::Purger;
use super::signing::{Signer, TrustedKeys};
use crate::domain::audit::Actor;
use crate::http::AppState;
use crate::store::job_leases;

/// Lease names.
const CHECKPOINT_LEASE: &str = "audit.checkpoint";
const RETENTION_SCHEDULE_LEASE: &str = "retention.schedule";
/// Held while a purge runs, by the job or by `sesame audit purge`.
pub const RETENTION_RUN_LEASE: &str = "retention.run";
/// Longest a purge may hold the run lease if its node dies mid-run.
pub const RETENTION_RUN_TTL: TimeDelta = TimeDelta::hours(6);

/// How often each node asks whether the retention period has come.
const RETENTION_POLL: Duration = Duration::from_secs(300);

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// A name for this node in leases.
pub fn holder() -> String {
    format!("node-{}-{:08x}", std::process::id(), rand::random::<u32>())
}

/// Starts the jobs on the current runtime; abort the handles to stop them.
pub fn spawn(state: web::Data<AppState>) -> Vec<JoinHandle<()>> {
    let signer = match Signer::new(&state.keys) {
        Ok(signer) => Arc::new(signer),
        Err(e) => {
            tracing::error!(error = %e, "audit jobs not started: the signing key is unusable");
            return Vec::new();
        }
    };
    let holder = Arc::new(holder());
    let mut jobs = vec![actix_web::rt::spawn(checkpoints(state.clone(), signer.clone(), holder.clone()))];
    if state.config.retention.enabled {
        jobs.push(actix_web::rt::spawn(retention(state, signer, holder)));
    }
    jobs
}

async fn checkpoints(state: web::Data<AppState>, signer: Arc<Signer>, holder: Arc<String>) {
    let audit = &state.config.audit;
    let schedule = Schedule {
        every_events: audit.checkpoint_every_events,
        every: TimeDelta::seconds(i64::try_from(audit.checkpoint_every_secs).unwrap_or(i64::MAX)),
    };
    // Often enough to notice N new events soon, rarely enough to cost nothing.
    let poll = Duration::from_secs(audit.checkpoint_every_secs.clamp(1, 30));
    let mut ticks = tokio::time::interval(poll);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let (signer, holder) = (signer.clone(), holder.clone());
        let outcome = state
            .store(move |conn| {
                let now = now();
                if !job_leases::try_acquire(
                    conn,
                    CHECKPOINT_LEASE,
                    &holder,
                    now,
                    now + TimeDelta::from_std(poll).unwrap_or_default(),
                )? {
                    return Ok(Ok(None));
                }
                Ok(checkpoint::checkpoint_if_due(conn, &signer, schedule, now))
            })
            .await;
        match outcome {
            Ok(Ok(_)) => metrics::job_run("checkpoint", true),
            Ok(Err(e)) => {
                metrics::job_run("checkpoint", false);
                tracing::error!(error = %e, "audit checkpoint failed");
            }
            Err(e) => {
                metrics::job_run("checkpoint", false);
                tracing::warn!(error = %e, "audit checkpoint skipped: database unavailable");
            }
        }
    }
}

async fn retention(state: web::Data<AppState>, signer: Arc<Signer>, holder: Arc<String>) {
    let period = TimeDelta::hours(i64::from(state.config.retention.every_hours));
    let mut ticks = tokio::time::interval(RETENTION_POLL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let (app, signer, holder) = (state.clone(), signer.clone(), holder.clone());
        let outcome = state
            .store(move |conn| {
                let now = now();
                if !job_leases::try_acquire(conn, RETENTION_SCHEDULE_LEASE, &holder, now, now + period)? {
                    return Ok(None);
                }
                if !job_leases::try_acquire(conn, RETENTION_RUN_LEASE, &holder, now, now + RETENTION_RUN_TTL)? {
                    // `sesame audit purge` is running: the period starts again from now.
                    return Ok(None);
                }
                let trusted = match TrustedKeys::load(&app.config) {
                    Ok(trusted) => trusted,
                    Err(e) => return Ok(Some(Err(e.into()))),
                };
                let purger = Purger {
                    policy: app.config.retention.policy(),
                    signer: &signer,
                    trusted: &trusted,
                    pseudonyms: &app.pseudonyms,
                    actor: Actor::system("retention"),
                };
                let report = purger.run(conn, now, false, &|_| {});
                job_leases::release(conn, RETENTION_RUN_LEASE, &holder)?;
                if report.is_err() {
                    // Let the next poll (on any node) try again rather than waiting a whole period.
                    job_leases::release(conn, RETENTION_SCHEDULE_LEASE, &holder)?;
                }
                Ok(Some(report))
            })
            .await;
        match outcome {
            Ok(None) => {}
            Ok(Some(Ok(report))) => {
                metrics::job_run("retention", true);
                match report.tampering() {
                    Some(reason) => tracing::error!(reason, "retention kept the audit log: it does not verify"),
                    None => {
                        tracing::info!(report = %serde_json::to_string(&report).unwrap_or_default(), "retention applied")
                    }
                }
            }
            Ok(Some(Err(e))) => {
                metrics::job_run("retention", false);
                tracing::error!(error = %e, "retention failed");
            }
            Err(e) => {
                metrics::job_run("retention", false);
                tracing::warn!(error = %e, "retention skipped: database unavailable");
            }
        }
    }
}
