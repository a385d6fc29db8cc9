//! The drop folder `sesame serve` watches: ENT projects deposit their nightly bundles in
//! `<feed.drop_dir>/<idENT>/` (archive first, then its `.md5`, as the GAR's SFTP deliveries do),
//! and each one is imported once.
//!
//! A bundle counts as delivered when its `.md5` is there. With several nodes sharing the folder
//! and the database, a lease per file (`job_leases`) makes one node import it; it is then moved
//! to `processed/` (applied or held) or `rejected/`, so no node sees it again.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::TimeDelta;

use super::import::{self, Options};
use super::metrics;
use super::source::{Export, ExportName, file_name, sibling_md5};
use crate::config::Config;
use crate::domain::pseudonym::Pseudonyms;
use crate::feed::FeedError;
use crate::store::feed::imports::ImportStatus;
use crate::store::{AnyConnection, job_leases as leases, partners};

/// A running watcher; stops when dropped.
pub struct DropFolder {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl DropFolder {
    /// Starts watching `config.feed.drop_dir`, if set.
    pub fn start(config: Arc<Config>, pseudonyms: Arc<Pseudonyms>) -> Option<Self> {
        let folder = config.feed.drop_dir.clone()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        tracing::info!(folder = %folder.display(), "watching the feed drop folder");
        let thread = std::thread::Builder::new()
            .name("feed-drop-folder".into())
            .spawn(move || watch(&config, &pseudonyms, &folder, &stopping))
            .map_err(|e| tracing::error!(error = %e, "cannot start the drop-folder watcher"))
            .ok()?;
        Some(Self { stop, thread: Some(thread) })
    }
}

impl Drop for DropFolder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn watch(config: &Config, pseudonyms: &Pseudonyms, folder: &Path, stop: &AtomicBool) {
    let holder = format!("{}/{}/drop", super::lease::hostname(), std::process::id());
    while !stop.load(Ordering::Relaxed) {
        if let Err(e) = scan(config, pseudonyms, folder, &holder, stop) {
            tracing::warn!(error = %e, "drop-folder scan failed; retrying at the next poll");
        }
        // Sleep in short steps so that shutdown is not delayed by the poll interval.
        for _ in 0..config.feed.poll_interval_secs * 10 {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Imports every delivered bundle once, oldest first per ENT project.
pub fn scan(
    config: &Config,
    pseudonyms: &Pseudonyms,
    folder: &Path,
    holder: &str,
    stop: &AtomicBool,
) -> Result<usize, FeedError> {
    let mut conn = config.database_url().connect()?;
    let mut imported = 0;
    for (ent, bundle) in delivered(folder).map_err(|e| FeedError::Io(format!("{}: {e}", folder.display())))? {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        if partners::find_ent_project_name(&mut conn, &ent)?.is_none() {
            tracing::warn!(ent = %ent, "drop folder of an unknown ENT project: ignored");
            continue;
        }
        let lease = format!("feed-drop:{ent}/{}", file_name(&bundle));
        let now = chrono::Utc::now().naive_utc();
        if !leases::try_acquire(&mut conn, &lease, holder, now, now + TimeDelta::minutes(30))? {
            continue;
        }
        // Another node may have finished it between the listing and the lease.
        if bundle.exists() && import_one(config, pseudonyms, &mut conn, &ent, &bundle)? {
            imported += 1;
        }
        leases::release(&mut conn, &lease, holder)?;
    }
    Ok(imported)
}

/// Bundles whose `.md5` has arrived, as (ENT project, path), sorted by name (so by date).
fn delivered(folder: &Path) -> std::io::Result<Vec<(String, PathBuf)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(folder)? {
        let entry = entry?;
        if !entry.file_type()?.is_dir() {
            continue;
        }
        let ent = entry.file_name().to_string_lossy().into_owned();
        let mut bundles: Vec<PathBuf> = std::fs::read_dir(entry.path())?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && file_name(p).ends_with(".tar.gz"))
            .filter(|p| sibling_md5(p).is_file())
            .collect();
        bundles.sort();
        found.extend(bundles.into_iter().map(|b| (ent.clone(), b)));
    }
    Ok(found)
}

/// Imports one bundle and files it away. Returns whether it was imported (not busy).
fn import_one(
    config: &Config,
    pseudonyms: &Pseudonyms,
    conn: &mut AnyConnection,
    ent: &str,
    bundle: &Path,
) -> Result<bool, FeedError> {
    let named_for = ExportName::parse(&file_name(bundle)).map(|n| n.ent_id);
    let export = match Export::bundle(bundle) {
        Ok(export) => export,
        Err(e) => {
            tracing::warn!(ent, bundle = %file_name(bundle), error = %e, "unreadable delivery refused");
            move_aside(bundle, "rejected");
            return Ok(true);
        }
    };
    let options = Options::ent(ent, &config.feed, pseudonyms, false);
    let outcome = match import::import(conn, ent, &export, &options) {
        Ok(outcome) => outcome,
        Err(FeedError::Busy(_)) => return Ok(false),
        Err(e) => return Err(e),
    };
    metrics::record(&outcome);
    let folder = match outcome.status() {
        ImportStatus::Applied | ImportStatus::Held => "processed",
        _ => "rejected",
    };
    tracing::info!(ent, import = outcome.report.id, status = %outcome.report.status, named_for = ?named_for, "drop-folder delivery imported");
    move_aside(bundle, folder);
    Ok(true)
}

/// Moves a bundle and its `.md5` into a sub-folder of where they were.
fn move_aside(bundle: &Path, to: &str) {
    let Some(parent) = bundle.parent() else { return };
    let target = parent.join(to);
    if let Err(e) = std::fs::create_dir_all(&target) {
        tracing::error!(error = %e, folder = %target.display(), "cannot create the drop folder's archive");
        return;
    }
    for path in [sibling_md5(bundle), bundle.to_owned()] {
        if let Err(e) = std::fs::rename(&path, target.join(file_name(&path))) {
            tracing::error!(error = %e, file = %file_name(&path), "cannot move a processed delivery");
        }
    }
}
