//! The metadata refresh job inside `sesame serve`: every `saml.metadata_refresh_minutes`, one
//! node (a lease in the database) fetches again the metadata of the partners registered from a
//! URL. A changed document replaces the registration (audited); an unchanged one is left alone;
//! a failed fetch or an unusable document keeps the last good registration, logged and counted.

use std::time::Duration;

use actix_web::rt::task::JoinHandle;
use actix_web::web;
use chrono::{TimeDelta, Utc};

use super::metrics;
use super::registry::{self, PublisherRegistration};
use crate::domain::audit::Actor;
use crate::http::AppState;
use crate::store::{AnyConnection, Pool, StoreError, job_leases, partners, saml};

const LEASE: &str = "sso.metadata_refresh";

/// Starts the job on the current runtime, unless turned off.
pub fn spawn(state: web::Data<AppState>) -> Option<JoinHandle<()>> {
    let minutes = state.config.saml.metadata_refresh_minutes;
    (minutes > 0).then(|| actix_web::rt::spawn(run(state, minutes)))
}

async fn run(state: web::Data<AppState>, minutes: u32) {
    let period = Duration::from_secs(u64::from(minutes) * 60);
    let holder = crate::audit::jobs::holder();
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let holder = holder.clone();
        // Held for the whole period: the refresh runs once per period across nodes.
        let acquired = state
            .store(move |conn| {
                let now = Utc::now().naive_utc();
                let until = now + TimeDelta::minutes(i64::from(minutes)) - TimeDelta::seconds(5);
                job_leases::try_acquire(conn, LEASE, &holder, now, until)
            })
            .await;
        match acquired {
            Ok(true) => {
                refresh_all(&state.pool).await;
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "metadata refresh: lease unavailable"),
        }
    }
}

/// Runs blocking database work off the async workers.
async fn store<T: Send + 'static>(
    pool: &Pool,
    work: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || work(&mut *pool.get()?)).await.map_err(|_| StoreError::Cancelled)?
}

/// How a refresh went, per role.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Refreshed {
    pub updated: usize,
    pub unchanged: usize,
    pub failed: usize,
}

/// Refreshes every partner registered from a URL once.
pub async fn refresh_all(pool: &Pool) -> Refreshed {
    let mut refreshed = Refreshed::default();
    let listed =
        store(pool, |conn| Ok((saml::identity_providers_with_url(conn)?, saml::service_providers_with_url(conn)?)))
            .await;
    let (idps, sps) = match listed {
        Ok(listed) => listed,
        Err(e) => {
            tracing::warn!(error = %e, "metadata refresh: cannot list partners");
            return refreshed;
        }
    };
    for idp in idps {
        let Some(url) = idp.metadata_url.clone() else { continue };
        let outcome = match registry::fetch(&url).await {
            Ok(xml) if xml == idp.metadata_xml => Ok(false),
            Ok(xml) => store(pool, move |conn| {
                Ok(registry::register_identity_provider(
                    conn,
                    &idp.ent_id,
                    None,
                    &xml,
                    Some(&url),
                    Actor::system("metadata-refresh"),
                    Utc::now(),
                ))
            })
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r.map(|_| true).map_err(|e| e.to_string())),
            Err(e) => Err(e.to_string()),
        };
        report("idp", outcome, &mut refreshed);
    }
    for sp in sps {
        let Some(url) = sp.metadata_url.clone() else { continue };
        let outcome = match registry::fetch(&url).await {
            Ok(xml) if Some(&xml) == sp.metadata_xml.as_ref() => Ok(false),
            Ok(xml) => store(pool, move |conn| {
                let name = partners::find_publisher_name(conn, &sp.publisher_id)?.unwrap_or_default();
                let registration = PublisherRegistration {
                    publisher_id: &sp.publisher_id,
                    name: &name,
                    xml: &xml,
                    url: Some(&url),
                    resources: &[],
                    sign_response: None,
                };
                Ok(registry::register_publisher(conn, &registration, Actor::system("metadata-refresh"), Utc::now()))
            })
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r.map(|_| true).map_err(|e| e.to_string())),
            Err(e) => Err(e.to_string()),
        };
        report("sp", outcome, &mut refreshed);
    }
    refreshed
}

fn report(role: &'static str, outcome: Result<bool, String>, refreshed: &mut Refreshed) {
    match outcome {
        Ok(true) => {
            refreshed.updated += 1;
            metrics::metadata_refresh(role, "updated");
        }
        Ok(false) => {
            refreshed.unchanged += 1;
            metrics::metadata_refresh(role, "unchanged");
        }
        Err(reason) => {
            refreshed.failed += 1;
            tracing::warn!(role, "metadata refresh failed, keeping the last good metadata: {reason}");
            metrics::metadata_refresh(role, "error");
        }
    }
}
