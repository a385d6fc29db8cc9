//! Loading the national directory's attributes of schools (nature, type, commune, académie…)
//! from a CSV file, behind `sesame schools import`.
//!
//! The file has a header line naming its columns as `etablissements.xml` does (`uai`,
//! `nature_uai`, `nature_uai_libe`, … see `domain::national_school::COLUMNS`); other columns are
//! ignored, missing ones leave the value empty. Fields are separated by `;` (the national
//! directory's exports) or `,`, whichever the header uses. After the import, every live
//! `codeNatureUAI` subscription is expanded again: schools that now carry one of its natures join
//! it (each expansion is audited as an update of that subscription).

use std::io::Read;

use serde_json::json;

use crate::domain::Uai;
use crate::domain::audit::{Actor, AuditEvent, AuditKind};
use crate::domain::national_school::{COLUMNS, NationalSchool};
use crate::store::subscriptions::{self, Expanded};
use crate::store::{AnyConnection, StoreError, audit, schools, write_transaction};

/// Why a national directory file was not imported. Nothing is written then.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("line {line}: {reason}")]
    Csv { line: u64, reason: String },
    #[error("the header has no `uai` column (columns are named as in etablissements.xml)")]
    NoUaiColumn,
    #[error("line {line}: `{value}` is not a UAI")]
    Uai { line: u64, value: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for ImportError {
    fn from(e: diesel::result::Error) -> Self {
        ImportError::Store(StoreError::Query(e))
    }
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Imported {
    /// Schools whose attributes were written.
    pub updated: usize,
    /// UAIs of the file no ENT project has fed: skipped.
    pub unknown: Vec<String>,
    /// The nature subscriptions that schools joined.
    pub expanded: Vec<Expanded>,
}

/// Reads the whole file.
pub fn read_csv(input: impl Read) -> Result<Vec<NationalSchool>, ImportError> {
    let mut text = String::new();
    let mut input = input;
    input.read_to_string(&mut text).map_err(|e| ImportError::Csv { line: 1, reason: e.to_string() })?;
    let header = text.lines().next().unwrap_or_default();
    let delimiter = if header.contains(';') { b';' } else { b',' };
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).trim(csv::Trim::All).from_reader(text.as_bytes());
    let csv_error =
        |e: csv::Error| ImportError::Csv { line: e.position().map_or(0, |p| p.line()), reason: e.to_string() };
    let headers = reader.headers().map_err(csv_error)?.clone();
    let position =
        |name: &str| headers.iter().position(|h| h.trim_start_matches('\u{feff}').eq_ignore_ascii_case(name));
    let uai_at = position("uai").ok_or(ImportError::NoUaiColumn)?;
    let columns: Vec<Option<usize>> = COLUMNS.iter().map(|name| position(name)).collect();
    let mut schools = Vec::new();
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        let line = record.position().map_or(0, |p| p.line());
        let value = record.get(uai_at).unwrap_or_default();
        let uai = Uai::parse(value).map_err(|_| ImportError::Uai { line, value: value.to_owned() })?;
        let values = std::array::from_fn(|i| {
            columns[i].and_then(|at| record.get(at)).filter(|v| !v.is_empty()).map(str::to_owned)
        });
        schools.push(NationalSchool { uai, values });
    }
    Ok(schools)
}

/// Writes the schools' attributes and expands nature subscriptions, with their audit events, in
/// one transaction. `progress` gets the number of schools written so far.
pub fn import(
    conn: &mut AnyConnection,
    national: &[NationalSchool],
    progress: impl FnMut(usize),
) -> Result<Imported, ImportError> {
    write_transaction(conn, |conn| {
        let unknown = schools::update_national(conn, national, progress)?;
        let updated = national.len() - unknown.len();
        audit::append(
            conn,
            &AuditEvent::new(
                AuditKind::SchoolsImported,
                Actor::operator(),
                json!({ "rows": national.len(), "updated": updated, "unknown": unknown.len() }),
            ),
        )?;
        let mut expanded = Vec::new();
        for grown in subscriptions::expand_natures(conn)? {
            let event = AuditEvent::new(
                AuditKind::SubscriptionUpdated,
                Actor::operator(),
                json!({
                    "idAbonnement": grown.external_id,
                    "idDistributeurCom": grown.distributor,
                    "addedSchools": grown.added_schools,
                }),
            );
            audit::append(conn, &event)?;
            expanded.push(grown);
        }
        Ok(Imported { updated, unknown, expanded })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_either_separator_and_any_column_order() {
        let semicolons = "uai;nature_uai;nature_uai_libe;idENT\n0990001N;340;Collège;WjA=\n0990011z;151;;\n";
        let schools = read_csv(semicolons.as_bytes()).unwrap();
        assert_eq!(schools.len(), 2);
        assert_eq!(schools[0].nature_code(), Some("340"));
        assert_eq!(schools[0].get("nature_uai_libe"), Some("Collège"));
        assert_eq!(schools[1].uai.as_str(), "0990011Z");
        assert_eq!(schools[1].get("nature_uai_libe"), None);
        assert_eq!(schools[1].get("commune"), None);

        let commas = "commune_libe,uai\n\"Ville, Sur-Mer\",0990002P\n";
        let schools = read_csv(commas.as_bytes()).unwrap();
        assert_eq!(schools[0].get("commune_libe"), Some("Ville, Sur-Mer"));
    }

    #[test]
    fn names_the_bad_line() {
        assert!(matches!(read_csv("nature_uai\n340\n".as_bytes()), Err(ImportError::NoUaiColumn)));
        let error = read_csv("uai;nature_uai\n0990001N;340\nnope;300\n".as_bytes()).unwrap_err();
        assert!(matches!(error, ImportError::Uai { line: 3, .. }), "{error}");
        let ragged = read_csv("uai;nature_uai\n0990001N;340;extra\n".as_bytes()).unwrap_err();
        assert!(matches!(ragged, ImportError::Csv { line: 2, .. }), "{ragged}");
    }
}
