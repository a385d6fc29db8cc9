//! Rows of `feed_imports` (one per export received) and the files of held exports.

use std::io::Read;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::store::schema::{feed_held_files, feed_imports};
use crate::store::{AnyConnection, StoreError};

/// Where an import stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ImportStatus {
    /// Being read, checked or applied (or interrupted, until the next import of its ENT project).
    Running,
    Applied,
    /// Would remove too much: waits for confirmation.
    Held,
    /// Refused as a whole (not well-formed, wrong namespace, bad checksum…): nothing applied.
    Rejected,
    /// A held import superseded by a later export, or discarded by an operator.
    Discarded,
}

impl ImportStatus {
    pub fn code(self) -> &'static str {
        match self {
            ImportStatus::Running => "RUNNING",
            ImportStatus::Applied => "APPLIED",
            ImportStatus::Held => "HELD",
            ImportStatus::Rejected => "REJECTED",
            ImportStatus::Discarded => "DISCARDED",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        [Self::Running, Self::Applied, Self::Held, Self::Rejected, Self::Discarded]
            .into_iter()
            .find(|s| s.code() == code)
    }
}

/// A stored import.
#[derive(Clone, Debug, Queryable)]
pub struct ImportRow {
    pub id: i64,
    pub ent_id: String,
    pub degree: i32,
    pub source: String,
    pub status: String,
    pub started_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
    pub summary: String,
    pub report: String,
}

/// Records a new import as RUNNING and returns its id.
pub fn insert_running(
    conn: &mut AnyConnection,
    ent_id: &str,
    degree: u8,
    source: &str,
    now: NaiveDateTime,
) -> Result<i64, StoreError> {
    Ok(diesel::insert_into(feed_imports::table)
        .values((
            feed_imports::ent_id.eq(ent_id),
            feed_imports::degree.eq(i32::from(degree)),
            feed_imports::source.eq(source),
            feed_imports::status.eq(ImportStatus::Running.code()),
            feed_imports::started_at.eq(now),
            feed_imports::summary.eq("{}"),
            feed_imports::report.eq("{}"),
        ))
        .returning(feed_imports::id)
        .get_result(conn)?)
}

/// Stores the outcome of an import.
pub fn finish(
    conn: &mut AnyConnection,
    id: i64,
    status: ImportStatus,
    degree: u8,
    summary: &str,
    report: &str,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::update(feed_imports::table.find(id))
        .set((
            feed_imports::status.eq(status.code()),
            feed_imports::degree.eq(i32::from(degree)),
            feed_imports::finished_at.eq(now),
            feed_imports::summary.eq(summary),
            feed_imports::report.eq(report),
        ))
        .execute(conn)?;
    Ok(())
}

const COLUMNS: (
    feed_imports::id,
    feed_imports::ent_id,
    feed_imports::degree,
    feed_imports::source,
    feed_imports::status,
    feed_imports::started_at,
    feed_imports::finished_at,
    feed_imports::summary,
    feed_imports::report,
) = (
    feed_imports::id,
    feed_imports::ent_id,
    feed_imports::degree,
    feed_imports::source,
    feed_imports::status,
    feed_imports::started_at,
    feed_imports::finished_at,
    feed_imports::summary,
    feed_imports::report,
);

/// An import of one ENT project: another project's import is "not found".
pub fn find_by_id_and_ent(conn: &mut AnyConnection, id: i64, ent_id: &str) -> Result<Option<ImportRow>, StoreError> {
    Ok(feed_imports::table.find(id).filter(feed_imports::ent_id.eq(ent_id)).select(COLUMNS).first(conn).optional()?)
}

/// Any import (operator commands).
pub fn find(conn: &mut AnyConnection, id: i64) -> Result<Option<ImportRow>, StoreError> {
    Ok(feed_imports::table.find(id).select(COLUMNS).first(conn).optional()?)
}

/// The latest imports of an ENT project, newest first, without their reports.
pub fn list(conn: &mut AnyConnection, ent_id: &str, limit: i64) -> Result<Vec<ImportRow>, StoreError> {
    let rows: Vec<ImportRow> = feed_imports::table
        .filter(feed_imports::ent_id.eq(ent_id))
        .order(feed_imports::id.desc())
        .limit(limit)
        .select(COLUMNS)
        .load(conn)?;
    Ok(rows.into_iter().map(|row| ImportRow { report: String::new(), ..row }).collect())
}

/// RUNNING imports of an ENT project other than `current`: their process died (the caller holds
/// the project's import lease). Marks them REJECTED and returns their ids.
pub fn close_interrupted(
    conn: &mut AnyConnection,
    ent_id: &str,
    current: Option<i64>,
    now: NaiveDateTime,
) -> Result<Vec<i64>, StoreError> {
    let ids: Vec<i64> = feed_imports::table
        .filter(feed_imports::ent_id.eq(ent_id))
        .filter(feed_imports::status.eq(ImportStatus::Running.code()))
        .filter(feed_imports::id.ne(current.unwrap_or(-1)))
        .select(feed_imports::id)
        .load(conn)?;
    let report = serde_json::json!({ "error": "interrupted: the importing process stopped before the end; nothing was applied" });
    for id in &ids {
        diesel::update(feed_imports::table.find(id))
            .set((
                feed_imports::status.eq(ImportStatus::Rejected.code()),
                feed_imports::finished_at.eq(now),
                feed_imports::report.eq(report.to_string()),
            ))
            .execute(conn)?;
    }
    Ok(ids)
}

/// HELD imports of the same ENT project and degree older than `newer`, which it supersedes.
pub fn discard_superseded(
    conn: &mut AnyConnection,
    ent_id: &str,
    degree: u8,
    newer: i64,
    now: NaiveDateTime,
) -> Result<Vec<i64>, StoreError> {
    let ids: Vec<i64> = feed_imports::table
        .filter(feed_imports::ent_id.eq(ent_id))
        .filter(feed_imports::degree.eq(i32::from(degree)))
        .filter(feed_imports::status.eq(ImportStatus::Held.code()))
        .filter(feed_imports::id.lt(newer))
        .select(feed_imports::id)
        .load(conn)?;
    for id in &ids {
        set_status(conn, *id, ImportStatus::Discarded, now)?;
    }
    Ok(ids)
}

/// Changes the status only (held → discarded).
pub fn set_status(
    conn: &mut AnyConnection,
    id: i64,
    status: ImportStatus,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::update(feed_imports::table.find(id))
        .set((feed_imports::status.eq(status.code()), feed_imports::finished_at.eq(now)))
        .execute(conn)?;
    delete_held_files(conn, id)?;
    Ok(())
}

/// Deletes finished imports of an ENT project started before `before` (held ones are kept).
pub fn purge(conn: &mut AnyConnection, ent_id: &str, before: NaiveDateTime) -> Result<usize, StoreError> {
    let old = feed_imports::table
        .filter(feed_imports::ent_id.eq(ent_id))
        .filter(feed_imports::started_at.lt(before))
        .filter(feed_imports::status.ne_all([ImportStatus::Running.code(), ImportStatus::Held.code()]));
    Ok(diesel::delete(old).execute(conn)?)
}

/// Size of the base64 chunks held files are stored in.
const CHUNK: usize = 1 << 20;

/// Stores one file of a held export, read to the end in chunks.
pub fn store_held_file(
    conn: &mut AnyConnection,
    import_id: i64,
    file_no: i32,
    name: &str,
    mut data: impl Read,
) -> Result<(), std::io::Error> {
    let mut buffer = vec![0u8; CHUNK];
    let mut chunk_no = 0;
    loop {
        let mut filled = 0;
        while filled < CHUNK {
            match data.read(&mut buffer[filled..])? {
                0 => break,
                n => filled += n,
            }
        }
        if filled == 0 && chunk_no > 0 {
            return Ok(());
        }
        diesel::insert_into(feed_held_files::table)
            .values((
                feed_held_files::import_id.eq(import_id),
                feed_held_files::file_no.eq(file_no),
                feed_held_files::chunk_no.eq(chunk_no),
                feed_held_files::name.eq(name),
                feed_held_files::data.eq(STANDARD.encode(&buffer[..filled])),
            ))
            .execute(conn)
            .map_err(std::io::Error::other)?;
        chunk_no += 1;
        if filled < CHUNK {
            return Ok(());
        }
    }
}

/// The files of a held export, as (file number, name).
pub fn held_files(conn: &mut AnyConnection, import_id: i64) -> Result<Vec<(i32, String)>, StoreError> {
    Ok(feed_held_files::table
        .filter(feed_held_files::import_id.eq(import_id))
        .filter(feed_held_files::chunk_no.eq(0))
        .order(feed_held_files::file_no)
        .select((feed_held_files::file_no, feed_held_files::name))
        .load(conn)?)
}

/// One chunk of a held file, decoded; `None` past the last one.
pub fn held_chunk(
    conn: &mut AnyConnection,
    import_id: i64,
    file_no: i32,
    chunk_no: i32,
) -> Result<Option<Vec<u8>>, StoreError> {
    let data: Option<String> = feed_held_files::table
        .find((import_id, file_no, chunk_no))
        .select(feed_held_files::data)
        .first(conn)
        .optional()?;
    Ok(data.map(|d| STANDARD.decode(d).unwrap_or_default()))
}

pub fn delete_held_files(conn: &mut AnyConnection, import_id: i64) -> Result<(), StoreError> {
    diesel::delete(feed_held_files::table.filter(feed_held_files::import_id.eq(import_id))).execute(conn)?;
    Ok(())
}
