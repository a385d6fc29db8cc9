//! The four signed exports for the data-protection officer and the CNIL: a data-subject access
//! export, a per-publisher release report, the processing-register extract and a per-school
//! activity report. Each is JSON (and CSV for people and spreadsheets), every file gets a detached
//! signature (`signature`), and producing one is itself audited (`export.created`, with each
//! file's SHA-256, never its content).

pub mod data_subject;
pub mod establishment;
pub mod publisher;
pub mod register;
mod table;

use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use serde_json::json;

use super::error::AuditError;
use super::metrics;
use super::signature::{SignatureFile, sha256_hex};
use super::signing::Signer;
use crate::domain::audit::{Actor, AuditEvent, AuditKind};
use crate::store::{AnyConnection, audit};

/// Which export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportKind {
    DataSubject,
    PublisherReleases,
    ProcessingRegister,
    EstablishmentActivity,
}

impl ExportKind {
    pub fn code(self) -> &'static str {
        match self {
            ExportKind::DataSubject => "data-subject",
            ExportKind::PublisherReleases => "publisher-releases",
            ExportKind::ProcessingRegister => "processing-register",
            ExportKind::EstablishmentActivity => "establishment-activity",
        }
    }
}

/// Whole days, `from` to `to` included, in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, String> {
        if to < from {
            return Err(format!("the period ends ({to}) before it starts ({from})"));
        }
        Ok(Self { from, to })
    }

    /// `from` and `to` as `YYYY-MM-DD`.
    pub fn parse(from: &str, to: &str) -> Result<Self, String> {
        let date = |text: &str| {
            NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .map_err(|_| format!("`{text}` is not a date (YYYY-MM-DD)"))
        };
        Self::new(date(from)?, date(to)?)
    }

    /// The first instant of the period.
    pub fn start(&self) -> NaiveDateTime {
        self.from.and_hms_opt(0, 0, 0).expect("midnight exists")
    }

    /// The first instant after the period.
    pub fn end(&self) -> NaiveDateTime {
        self.to.and_hms_opt(0, 0, 0).expect("midnight exists") + TimeDelta::days(1)
    }

    fn json(&self) -> serde_json::Value {
        json!({ "from": self.from.to_string(), "to": self.to.to_string(), "timeZone": "UTC" })
    }
}

/// One file of an export, before signing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportFile {
    pub name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

impl ExportFile {
    fn json(stem: &str, value: &serde_json::Value) -> Self {
        let mut bytes = serde_json::to_vec_pretty(value).expect("a JSON value always serializes");
        bytes.push(b'\n');
        Self { name: format!("{stem}.json"), content_type: "application/json", bytes }
    }

    fn csv(stem: &str, bytes: Vec<u8>) -> Self {
        Self { name: format!("{stem}.csv"), content_type: "text/csv; charset=utf-8", bytes }
    }
}

/// An export built from the database, not yet signed.
#[derive(Clone, Debug)]
pub struct Document {
    pub kind: ExportKind,
    pub files: Vec<ExportFile>,
    /// What the export is about, for the `export.created` event: ids and codes only.
    pub about: serde_json::Value,
    pub ent_id: Option<String>,
    pub uai: Option<String>,
    pub subject: Option<String>,
}

/// A signed export, recorded in the audit log.
#[derive(Clone, Debug)]
pub struct SignedExport {
    pub kind: ExportKind,
    pub files: Vec<(ExportFile, SignatureFile)>,
    /// The `export.created` event.
    pub event: i64,
}

/// Signs every file of `document` and records the export in the audit log.
pub fn seal(
    conn: &mut AnyConnection,
    signer: &Signer,
    document: Document,
    actor: &Actor,
) -> Result<SignedExport, AuditError> {
    let mut files = Vec::new();
    for file in document.files {
        let signature = SignatureFile::sign(signer, &file.name, &file.bytes)?;
        files.push((file, signature));
    }
    let listed: Vec<_> = files
        .iter()
        .map(|(file, _)| json!({ "name": file.name, "sha256": sha256_hex(&file.bytes), "bytes": file.bytes.len() }))
        .collect();
    let mut event = AuditEvent::new(
        AuditKind::ExportCreated,
        actor.clone(),
        json!({ "export": document.kind.code(), "about": document.about, "files": listed, "keyId": signer.key_id() }),
    );
    event.ent_id = document.ent_id;
    event.uai = document.uai;
    event.subject = document.subject;
    let event = audit::append(conn, &event)?;
    metrics::export_created(document.kind.code());
    Ok(SignedExport { kind: document.kind, files, event })
}

/// Writes each file and its `.sig` into `dir`; returns the paths written.
pub fn write(export: &SignedExport, dir: &Path) -> Result<Vec<PathBuf>, AuditError> {
    let failed = |path: &Path| {
        let path = path.to_owned();
        move |source| AuditError::Write { path, source }
    };
    std::fs::create_dir_all(dir).map_err(failed(dir))?;
    let mut written = Vec::new();
    for (file, signature) in &export.files {
        let path = dir.join(&file.name);
        std::fs::write(&path, &file.bytes).map_err(failed(&path))?;
        let sig = dir.join(format!("{}.sig", file.name));
        std::fs::write(&sig, signature.to_text()).map_err(failed(&sig))?;
        written.extend([path, sig]);
    }
    Ok(written)
}

/// Timestamps in JSON: RFC 3339, UTC, to the second.
fn iso(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Timestamps in CSV: what a spreadsheet reads as a date (the header says UTC).
fn sheet(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A file-name-safe stamp of the generation time.
fn stamp(at: NaiveDateTime) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A JSON array column (attributes, mails), or the text itself if it is not one.
fn json_list(text: &str) -> serde_json::Value {
    match serde_json::from_str::<Vec<String>>(text) {
        Ok(items) => json!(items),
        Err(_) => json!(text),
    }
}

/// The same, for a CSV cell.
fn list_text(text: &str) -> String {
    match serde_json::from_str::<Vec<String>>(text) {
        Ok(items) => items.join(", "),
        Err(_) => text.to_owned(),
    }
}

/// The common header of every export.
fn header(kind: ExportKind, title: &str, now: NaiveDateTime) -> serde_json::Value {
    json!({
        "kind": kind.code(),
        "title": title,
        "generatedAt": iso(now),
        "generatedBy": format!("Sesame {}", env!("CARGO_PKG_VERSION")),
        "signature": "Fichier .sig voisin, vérifiable par `sesame audit verify-export` / \
                      the .sig file beside this one, checked by `sesame audit verify-export`",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_whole_days() {
        let period = Period::parse("2026-09-01", "2026-09-30").unwrap();
        assert_eq!(period.start().to_string(), "2026-09-01 00:00:00");
        assert_eq!(period.end().to_string(), "2026-10-01 00:00:00");
        assert!(Period::parse("2026-09-30", "2026-09-01").unwrap_err().contains("before it starts"));
        assert!(Period::parse("2026-13-01", "2026-12-01").unwrap_err().contains("not a date"));
    }
}
