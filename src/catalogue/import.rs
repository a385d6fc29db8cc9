//! Importing notices: every notice checked first, then one transaction that upserts them all and
//! records the import in the audit log. A refused file changes nothing.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use aws_lc_rs::digest;
use serde_json::json;

use crate::domain::audit::{Actor, AuditEvent, AuditKind};
use crate::domain::catalogue::{ResourceImport, ResourceNotice};
use crate::store::catalogue::{self, UpsertCounts};
use crate::store::{AnyConnection, StoreError, audit, write_transaction};

/// What an import did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImportReport {
    /// Notices in the file.
    pub notices: usize,
    pub counts: UpsertCounts,
    /// Sequence number of the `catalogue.imported` audit event.
    pub audit_seq: i64,
}

/// Why nothing was imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("not a resource import file (see schema/resource-import.schema.json): {0}")]
    Format(serde_json::Error),
    #[error("{} problem(s), nothing imported:\n  {}", .0.len(), .0.join("\n  "))]
    Invalid(Vec<String>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for ImportError {
    fn from(e: diesel::result::Error) -> Self {
        ImportError::Store(StoreError::Query(e))
    }
}

/// Imports the notices of a JSON file; see [`import_json`].
pub fn import_file(
    conn: &mut AnyConnection,
    path: &Path,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ImportReport, ImportError> {
    let bytes = std::fs::read(path).map_err(|source| ImportError::Read { path: path.display().to_string(), source })?;
    import_json(conn, &bytes, progress)
}

/// Checks every notice (fields, duplicates, families), then creates new resources and updates
/// known ones in one transaction with its audit event. `progress` hears (done, total).
pub fn import_json(
    conn: &mut AnyConnection,
    json: &[u8],
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ImportReport, ImportError> {
    let file: ResourceImport = serde_json::from_slice(json).map_err(ImportError::Format)?;
    let notices = &file.resources;
    let mut problems: Vec<String> = notices.iter().filter_map(|n| n.validate().err()).map(|e| e.to_string()).collect();
    let mut seen = HashSet::new();
    for notice in notices {
        if !seen.insert(notice.id.as_str()) {
            problems.push(format!("{}: listed more than once", notice.id));
        }
    }
    if !problems.is_empty() {
        return Err(ImportError::Invalid(problems));
    }
    let sha256 = hex::encode(digest::digest(&digest::SHA256, json));
    write_transaction(conn, |conn| {
        let problems = family_problems(conn, notices)?;
        if !problems.is_empty() {
            return Err(ImportError::Invalid(problems));
        }
        let total = notices.len();
        let counts = catalogue::upsert_notices(conn, notices, &mut |done| progress(done, total))?;
        let event = AuditEvent::new(
            AuditKind::CatalogueImported,
            Actor::operator(),
            json!({
                "notices": total,
                "created": counts.created,
                "updated": counts.updated,
                "unchanged": counts.unchanged,
                "publishersAdded": counts.publishers_added,
                "publishersRenamed": counts.publishers_renamed,
                "sha256": sha256,
            }),
        );
        let audit_seq = audit::append(conn, &event)?;
        Ok(ImportReport { notices: total, counts, audit_seq })
    })
}

/// GAR families have one level: a member's mother must exist (in the file or the catalogue) and
/// must not itself be a member, and a mother cannot join another family.
fn family_problems(conn: &mut AnyConnection, notices: &[ResourceNotice]) -> Result<Vec<String>, StoreError> {
    // What the catalogue will say once the file is applied: the file wins over stored values.
    let in_file: HashMap<&str, Option<&str>> =
        notices.iter().map(|n| (n.id.as_str(), n.family_parent_id.as_deref())).collect();
    let members: Vec<&ResourceNotice> = notices.iter().filter(|n| n.family_parent_id.is_some()).collect();
    let mothers: Vec<&str> = members.iter().filter_map(|n| n.family_parent_id.as_deref()).collect();
    let stored_mothers = catalogue::find_mothers(conn, &mothers)?;
    let member_ids: Vec<&str> = members.iter().map(|n| n.id.as_str()).collect();
    let stored_members = catalogue::find_members(conn, &member_ids)?;

    let mut problems = Vec::new();
    for member in &members {
        let mother = member.family_parent_id.as_deref().unwrap_or_default();
        let mothers_mother = match in_file.get(mother) {
            Some(from_file) => Some(from_file.map(str::to_owned)),
            None => stored_mothers.get(mother).cloned(),
        };
        match mothers_mother {
            None => problems
                .push(format!("{}: family mother {mother} is neither in the file nor in the catalogue", member.id)),
            Some(Some(grandmother)) => problems.push(format!(
                "{}: family mother {mother} is itself a member of family {grandmother} (families have one level)",
                member.id
            )),
            Some(None) => {}
        }
    }
    for (stored_member, mother) in stored_members {
        // Still a member of that mother after the import, unless the file moves it.
        let still_member = in_file.get(stored_member.as_str()).is_none_or(|now| *now == Some(mother.as_str()));
        if still_member {
            problems.push(format!("{mother}: cannot join a family while it is the mother of {stored_member}"));
        }
    }
    problems.sort();
    problems.dedup();
    Ok(problems)
}
