//! The lease that makes imports of one ENT project run one at a time across nodes, and lets a
//! re-run start at once after its predecessor was killed on the same machine.

use std::time::{Duration, Instant};

use chrono::TimeDelta;

use super::error::FeedError;
use crate::store::{AnyConnection, StoreError, job_leases as leases};

/// Long enough for the apply transaction, during which the lease is not renewed.
const TTL: TimeDelta = TimeDelta::minutes(10);
const RENEW_EVERY: Duration = Duration::from_secs(60);

pub struct ImportLease {
    name: String,
    holder: String,
    renewed: Instant,
}

impl ImportLease {
    /// Takes the ENT project's import lease, or fails with `Busy`.
    pub fn take(conn: &mut AnyConnection, ent_id: &str) -> Result<Self, FeedError> {
        let name = format!("feed-import:{ent_id}");
        let holder = format!("{}/{}/{:016x}", hostname(), std::process::id(), rand::random::<u64>());
        let now = chrono::Utc::now().naive_utc();
        let mut taken = leases::try_acquire(conn, &name, &holder, now, now + TTL)?;
        if !taken
            && let Some((previous, _)) = leases::holder(conn, &name)?
            && holder_is_dead_here(&previous)
        {
            tracing::warn!(lease = %name, previous = %previous, "taking over the lease of a dead import");
            taken = leases::take_over(conn, &name, &previous, &holder, TTL)?;
        }
        if !taken {
            return Err(FeedError::Busy(ent_id.to_owned()));
        }
        Ok(Self { name, holder, renewed: Instant::now() })
    }

    /// Renews the lease when due; call between units of work.
    pub fn keep(&mut self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        if self.renewed.elapsed() >= RENEW_EVERY {
            leases::renew(conn, &self.name, &self.holder, TTL)?;
            self.renewed = Instant::now();
        }
        Ok(())
    }

    pub fn release(self, conn: &mut AnyConnection) {
        if let Err(e) = leases::release(conn, &self.name, &self.holder) {
            tracing::warn!(error = %e, lease = %self.name, "cannot release the import lease; it will expire");
        }
    }
}

/// This machine's name, as leases record it.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

/// A holder `host/pid/token` of this machine whose process is gone. Only decidable where /proc is.
fn holder_is_dead_here(holder: &str) -> bool {
    let mut parts = holder.split('/');
    let (Some(host), Some(pid)) = (parts.next(), parts.next()) else { return false };
    let proc_exists = std::path::Path::new("/proc/self").exists();
    proc_exists
        && host == hostname()
        && pid.parse::<u32>().is_ok()
        && !std::path::Path::new(&format!("/proc/{pid}")).exists()
}
