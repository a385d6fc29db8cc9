//! One import, from an export to an applied (or held, or refused) directory, with its report.
//!
//! 1. The ENT project's import lease is taken (one import per project at a time, any node), and
//!    imports a dead process left RUNNING are closed.
//! 2. A bundle is compared with its `.md5`; then every file is parsed and staged (`load`). Any
//!    structural failure refuses the export as a whole: nothing changes.
//! 3. Set-based checks refuse bad records with their reason (`store::feed::check`).
//! 4. If the export would detach more than the allowed share of an establishment's persons, it is
//!    held: its files are kept in the database until an operator or the ENT confirms it.
//! 5. Otherwise it is applied in one write transaction (`store::feed::apply`), with its audit event
//!    and report: a crash before the commit leaves the previous directory exactly as it was.

use std::path::Path;

use chrono::{NaiveDateTime, Utc};
use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use diesel::sql_types::BigInt;

use super::error::FeedError;
use super::lease::ImportLease;
use super::load::{self, Loaded};
use super::progress::{Phase, Progress};
use super::report::{EntityCount, Hold, Rejection, Report};
use super::source::{Export, ExportName};
use crate::assignments::{self, Author};
use crate::config::FeedConfig;
use crate::domain::Uai;
use crate::domain::audit::{Actor, AuditEvent, AuditKind};
use crate::domain::directory::Degree;
use crate::domain::pseudonym::Pseudonyms;
use crate::store::feed::imports::{self, ImportRow, ImportStatus};
use crate::store::feed::{apply, check, stage};
use crate::store::{AnyConnection, StoreError, audit, partners, write_transaction};

/// How an import runs.
pub struct Options<'a> {
    /// Who sent (or confirms) the export, for the audit log.
    pub actor: Actor,
    /// Apply even if it detaches more than the allowed share of an establishment's persons.
    pub accept_large_deletion: bool,
    pub config: &'a FeedConfig,
    pub progress: &'a dyn Progress,
    /// Refers to people in the audit events of the seats the import moves.
    pub pseudonyms: &'a Pseudonyms,
}

impl<'a> Options<'a> {
    /// An ENT project's own delivery (API, drop folder), with no progress display.
    pub fn ent(ent_id: &str, config: &'a FeedConfig, pseudonyms: &'a Pseudonyms, accept_large_deletion: bool) -> Self {
        Self { actor: Actor::ent(ent_id), accept_large_deletion, config, progress: &super::Silent, pseudonyms }
    }
}

/// The result of an import.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub report: Report,
    /// Establishments whose directory changed, for the licence ledger (empty unless applied).
    pub affected_uais: Vec<Uai>,
}

impl Outcome {
    pub fn status(&self) -> ImportStatus {
        ImportStatus::parse(&self.report.status).unwrap_or(ImportStatus::Rejected)
    }
}

/// Imports one export for `ent_id`.
pub fn import(
    conn: &mut AnyConnection,
    ent_id: &str,
    export: &Export,
    options: &Options<'_>,
) -> Result<Outcome, FeedError> {
    if partners::find_ent_project_name(conn, ent_id)?.is_none() {
        return Err(FeedError::UnknownEnt(ent_id.to_owned()));
    }
    let mut lease = ImportLease::take(conn, ent_id)?;
    let result = run(conn, ent_id, export, None, options, &mut lease);
    cleanup(conn);
    lease.release(conn);
    result
}

/// Applies a HELD import: its stored files are read again and applied whatever they remove.
/// `ent_id` limits the lookup to one ENT project's imports (API callers).
pub fn confirm(
    conn: &mut AnyConnection,
    import_id: i64,
    ent_id: Option<&str>,
    options: &Options<'_>,
) -> Result<Outcome, FeedError> {
    let row = held(conn, import_id, ent_id)?;
    let mut lease = ImportLease::take(conn, &row.ent_id)?;
    let result = (|| {
        // Checked again under the lease: another node may have confirmed it meanwhile.
        let row = held(conn, import_id, ent_id)?;
        let folder =
            tempfile::tempdir().map_err(|e| FeedError::Io(format!("cannot create a temporary folder: {e}")))?;
        let export = restore(conn, &row, folder.path())?;
        let options = Options { accept_large_deletion: true, actor: options.actor.clone(), ..*options };
        run(conn, &row.ent_id, &export, Some(&row), &options, &mut lease)
    })();
    cleanup(conn);
    lease.release(conn);
    result
}

/// Gives a HELD import up.
pub fn discard(
    conn: &mut AnyConnection,
    import_id: i64,
    ent_id: Option<&str>,
    actor: &Actor,
) -> Result<Report, FeedError> {
    let row = held(conn, import_id, ent_id)?;
    let now = Utc::now().naive_utc();
    let mut report: Report = serde_json::from_str(&row.report).unwrap_or_default();
    report.status = ImportStatus::Discarded.code().into();
    report.finished_at = Some(timestamp(now));
    write_transaction(conn, |conn| {
        imports::set_status(conn, row.id, ImportStatus::Discarded, now)?;
        imports::finish(
            conn,
            row.id,
            ImportStatus::Discarded,
            row.degree as u8,
            &report.summary().to_string(),
            &json(&report),
            now,
        )?;
        let details = serde_json::json!({ "import": row.id, "discarded": true });
        audit::append(conn, &AuditEvent::new(AuditKind::FeedRejected, actor.clone(), details).ent(&row.ent_id))?;
        Ok::<_, StoreError>(())
    })?;
    Ok(report)
}

fn held(conn: &mut AnyConnection, import_id: i64, ent_id: Option<&str>) -> Result<ImportRow, FeedError> {
    let row = match ent_id {
        Some(ent) => imports::find_by_id_and_ent(conn, import_id, ent)?,
        None => imports::find(conn, import_id)?,
    };
    let row = row.ok_or(FeedError::NotFound(import_id))?;
    if row.status != ImportStatus::Held.code() {
        return Err(FeedError::NotHeld { id: row.id, status: row.status });
    }
    Ok(row)
}

/// Writes a held import's files back to `folder`, as the export they were.
fn restore(conn: &mut AnyConnection, row: &ImportRow, folder: &Path) -> Result<Export, FeedError> {
    use std::io::Write;
    let mut paths = Vec::new();
    for (file_no, name) in imports::held_files(conn, row.id)? {
        // Names come from our own storage, but keep them inside the folder all the same.
        let safe =
            Path::new(&name).file_name().map(|n| n.to_owned()).unwrap_or_else(|| format!("file-{file_no}").into());
        let path = folder.join(safe);
        let mut file = std::fs::File::create(&path).map_err(|e| FeedError::Io(format!("{}: {e}", path.display())))?;
        let mut chunk_no = 0;
        while let Some(data) = imports::held_chunk(conn, row.id, file_no, chunk_no)? {
            file.write_all(&data).map_err(|e| FeedError::Io(format!("{}: {e}", path.display())))?;
            chunk_no += 1;
        }
        paths.push(path);
    }
    let is_archive = paths.len() == 1 && !super::source::file_name(&paths[0]).to_ascii_lowercase().ends_with(".xml");
    Ok(match is_archive {
        // Its checksum was verified when it arrived.
        true => Export::Bundle { name: row.source.clone(), path: paths.remove(0), md5: None },
        false => Export::Files { files: paths, name: row.source.clone() },
    })
}

/// Drops the staging tables (the connection may be pooled) and resets session settings.
fn cleanup(conn: &mut AnyConnection) {
    if let Err(e) = stage::drop_tables(conn) {
        tracing::warn!(error = %e, "cannot drop the import's staging tables");
    }
    if let AnyConnection::Postgresql(_) = conn {
        let _ = diesel::sql_query("RESET work_mem").execute(conn);
    }
}

fn timestamp(at: NaiveDateTime) -> String {
    at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn json(report: &Report) -> String {
    serde_json::to_string(report).expect("a report always serializes")
}

fn run(
    conn: &mut AnyConnection,
    ent_id: &str,
    export: &Export,
    confirming: Option<&ImportRow>,
    options: &Options<'_>,
    lease: &mut ImportLease,
) -> Result<Outcome, FeedError> {
    let started = Utc::now().naive_utc();
    let named = export.name_parts();
    let degree_hint = named.as_ref().map(|n| n.degree).unwrap_or(Degree::Second);
    let id = match confirming {
        Some(row) => row.id,
        None => imports::insert_running(conn, ent_id, degree_hint.number(), export.name(), started)?,
    };
    let interrupted = imports::close_interrupted(conn, ent_id, Some(id), started)?;
    if !interrupted.is_empty() {
        tracing::warn!(ent = ent_id, imports = ?interrupted, "closed imports a stopped process left running");
    }
    let mut report = Report {
        id,
        ent: ent_id.to_owned(),
        status: ImportStatus::Running.code().into(),
        source: export.name().to_owned(),
        actor: options.actor.to_string(),
        checksum: "absent".into(),
        started_at: timestamp(confirming.map_or(started, |row| row.started_at)),
        ..Report::default()
    };
    tracing::info!(ent = ent_id, import = id, source = %report.source, "import started");

    if let Some(ExportName { ent_id: named_ent, .. }) = &named
        && named_ent != ent_id
    {
        let reason = format!("the export is named for ENT project {named_ent}, not {ent_id}");
        return refuse(conn, report, degree_hint, reason, options);
    }
    options.progress.phase(Phase::Checksum);
    match export.verify_checksum() {
        Ok(true) => report.checksum = "verified".into(),
        Ok(false) => {}
        Err(e) => return refuse(conn, report, degree_hint, e.to_string(), options),
    }

    match conn {
        // Digests aggregate a row per link: let PostgreSQL hash them in memory.
        AnyConnection::Postgresql(_) => diesel::sql_query("SET work_mem = '256MB'").execute(conn)?,
        // Staging goes to a temporary file, not memory; bigger page caches than the 2 MB default
        // for the staging and the directory's indexes, within the import's memory budget; no
        // memory-mapped reads, which would map the whole directory into the process.
        AnyConnection::Sqlite(_) => {
            conn.batch_execute(
                "PRAGMA temp_store = FILE; PRAGMA cache_size = -65536; PRAGMA temp.cache_size = -65536; \
                 PRAGMA mmap_size = 0",
            )?;
            0
        }
    };
    stage::create_tables(conn)?;
    options.progress.phase(Phase::Reading);
    let max_listed = options.config.max_listed_rejections as usize;
    let loaded = load::load(conn, export, options.config.max_export_bytes, max_listed, options.progress, |conn| {
        lease.keep(conn)
    })?;
    report.files = loaded.files.clone();
    report.rejected = loaded.rejected;
    report.rejections = loaded.rejections.clone();
    let degree = loaded.degree.unwrap_or(degree_hint);
    report.degree = loaded.degree.or(named.as_ref().map(|n| n.degree)).map(Degree::number);
    if let Some(error) = &loaded.error {
        return refuse(conn, report, degree, error.clone(), options);
    }
    if let Some(named) = &named
        && named.degree != degree
    {
        let reason = format!("the export is named {} but holds degree {degree} files", named.stem());
        return refuse(conn, report, degree, reason, options);
    }

    options.progress.phase(Phase::Checking);
    lease.keep(conn)?;
    crate::store::feed::set_context(conn, ent_id, degree.number(), started)?;
    check::index_tables(conn)?;
    let findings = check::run(conn, max_listed.saturating_sub(report.rejections.len()))?;
    report.rejected += findings.refused_total;
    report.rejections.extend(findings.refused.iter().map(|r| rejection(&loaded, r)));
    report.repeated = findings.repeats_total;
    report.repeats = findings.repeats.iter().map(|r| rejection(&loaded, r)).collect();

    let threshold = options.config.large_deletion_share;
    let deletions = apply::large_deletions(conn, threshold, options.config.large_deletion_min_persons)?;
    if !deletions.is_empty() && !options.accept_large_deletion {
        report.held = Some(Hold { threshold, establishments: deletions });
        return hold(conn, report, degree, export, options);
    }

    options.progress.phase(Phase::Applying);
    lease.keep(conn)?;
    let finished = Utc::now().naive_utc();
    let outcome = write_transaction(conn, |conn| {
        if let AnyConnection::Postgresql(_) = conn {
            // The lease serializes imports of a project; this also covers an expired lease.
            diesel::sql_query("SELECT pg_advisory_xact_lock($1)").bind::<BigInt, _>(lock_key(ent_id)).execute(conn)?;
        }
        let applied = apply::apply(conn)?;
        let affected: Vec<Uai> = applied.affected_uais.iter().filter_map(|u| Uai::parse(u).ok()).collect();
        // Seats follow the people in the same transaction: newcomers of assigned classes get one,
        // leavers free theirs.
        let ledger = assignments::reconcile(conn, ent_id, &affected, &Author::feed(ent_id, options.pseudonyms))?;
        imports::discard_superseded(conn, ent_id, degree.number(), id, finished)?;
        imports::delete_held_files(conn, id)?;
        report.counts = applied
            .counts
            .iter()
            .map(|(entity, tally)| EntityCount { entity: (*entity).into(), tally: *tally })
            .collect();
        report.affected_establishments = applied.affected_uais.clone();
        report.status = ImportStatus::Applied.code().into();
        report.finished_at = Some(timestamp(finished));
        let summary = report.summary();
        imports::finish(
            conn,
            id,
            ImportStatus::Applied,
            degree.number(),
            &summary.to_string(),
            &json(&report),
            finished,
        )?;
        let kind = if confirming.is_some() { AuditKind::FeedConfirmed } else { AuditKind::FeedApplied };
        let details =
            serde_json::json!({ "import": id, "degree": degree.number(), "summary": summary, "ledger": ledger });
        audit::append(conn, &AuditEvent::new(kind, options.actor.clone(), details).ent(ent_id))?;
        let retention = chrono::TimeDelta::days(i64::from(options.config.report_retention_days));
        imports::purge(conn, ent_id, finished - retention)?;
        Ok::<_, StoreError>(Outcome { report: report.clone(), affected_uais: affected })
    })?;
    tracing::info!(
        ent = ent_id,
        import = id,
        rejected = outcome.report.rejected,
        affected = outcome.affected_uais.len(),
        "import applied"
    );
    Ok(outcome)
}

/// A PostgreSQL advisory lock key per ENT project.
fn lock_key(ent_id: &str) -> i64 {
    let hash = xxhash_rust::xxh3::xxh3_64(format!("sesame-feed:{ent_id}").as_bytes());
    i64::from_ne_bytes(hash.to_ne_bytes())
}

fn rejection(loaded: &Loaded, refused: &check::Refused) -> Rejection {
    let (file, file_type) = loaded.file(refused.file).unwrap_or(("?", super::xml::FileType::Etab));
    let root = file_type.root();
    let person = match file_type {
        super::xml::FileType::Eleve => "GAREleve",
        _ => "GAREnseignant",
    };
    let path = match (refused.person_part, refused.element) {
        (true, "") => format!("{root}/{person}[{}]", refused.index),
        (true, part) => format!("{root}/{person}[{}]/{part}", refused.index),
        (false, element) => format!("{root}/{element}[{}]", refused.index),
    };
    Rejection {
        file: file.to_owned(),
        line: refused.line as u64,
        path,
        id: refused.id.clone(),
        reason: refused.reason.clone(),
    }
}

/// Refuses the export as a whole: nothing is applied, the report says why.
fn refuse(
    conn: &mut AnyConnection,
    mut report: Report,
    degree: Degree,
    reason: String,
    options: &Options<'_>,
) -> Result<Outcome, FeedError> {
    let now = Utc::now().naive_utc();
    report.status = ImportStatus::Rejected.code().into();
    report.error = Some(reason);
    report.finished_at = Some(timestamp(now));
    write_transaction(conn, |conn| {
        imports::finish(
            conn,
            report.id,
            ImportStatus::Rejected,
            degree.number(),
            &report.summary().to_string(),
            &json(&report),
            now,
        )?;
        let details = serde_json::json!({ "import": report.id, "rejected": true });
        audit::append(
            conn,
            &AuditEvent::new(AuditKind::FeedRejected, options.actor.clone(), details).ent(&report.ent),
        )?;
        Ok::<_, StoreError>(())
    })?;
    tracing::warn!(ent = %report.ent, import = report.id, "import refused");
    Ok(Outcome { report, affected_uais: Vec::new() })
}

/// Keeps the export's files for confirmation and records the import as HELD.
fn hold(
    conn: &mut AnyConnection,
    mut report: Report,
    degree: Degree,
    export: &Export,
    options: &Options<'_>,
) -> Result<Outcome, FeedError> {
    let now = Utc::now().naive_utc();
    report.status = ImportStatus::Held.code().into();
    report.finished_at = Some(timestamp(now));
    write_transaction(conn, |conn| {
        imports::delete_held_files(conn, report.id)?;
        for (file_no, (name, path)) in export.stored_files().into_iter().enumerate() {
            let file = std::fs::File::open(&path).map_err(|e| FeedError::Io(format!("{}: {e}", path.display())))?;
            imports::store_held_file(conn, report.id, file_no as i32, &name, std::io::BufReader::new(file))
                .map_err(|e| FeedError::Io(format!("cannot keep {name}: {e}")))?;
        }
        imports::finish(
            conn,
            report.id,
            ImportStatus::Held,
            degree.number(),
            &report.summary().to_string(),
            &json(&report),
            now,
        )?;
        let held: Vec<&str> = report.held.iter().flat_map(|h| &h.establishments).map(|d| d.uai.as_str()).collect();
        let details = serde_json::json!({ "import": report.id, "establishments": held });
        audit::append(conn, &AuditEvent::new(AuditKind::FeedHeld, options.actor.clone(), details).ent(&report.ent))?;
        Ok::<_, FeedError>(())
    })?;
    tracing::warn!(ent = %report.ent, import = report.id, "import held: large deletion");
    Ok(Outcome { report, affected_uais: Vec::new() })
}
