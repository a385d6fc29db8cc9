#![allow(dead_code)] // each test module uses a different subset

//! Helpers for feed tests: exports written from generated directories, imports, table snapshots.

use std::path::{Path, PathBuf};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use sesame::config::{Config, FeedConfig};
use sesame::domain::audit::Actor;
use sesame::domain::directory::{Degree, Directory};
use sesame::feed::source::ExportName;
use sesame::feed::writer::ExportWriter;
use sesame::feed::{self, Export, Outcome, Silent};
use sesame::store::{AnyConnection, partners};

/// The demo académie's directories (Z0 second degree, Z1 first degree).
pub fn demo_directories() -> Vec<Directory> {
    let fixtures = sesame::demo::Fixtures::embedded().unwrap();
    sesame::demo::generate(&fixtures.settings, fixtures.settings.seed)
}

pub fn export_name(ent: &str, degree: Degree) -> ExportName {
    ExportName { ent_id: ent.into(), stamp: "20261125_210000".into(), degree }
}

/// Writes `dir`'s records of `degree` as a bundle in `out`, returning the archive's path.
pub fn write_bundle(dir: &Directory, degree: Degree, out: &Path) -> PathBuf {
    let mut writer = ExportWriter::bundle(out, export_name(&dir.ent_id, degree)).unwrap();
    writer.write(&dir.of_degree(degree)).unwrap();
    writer.finish().unwrap().paths.remove(0)
}

/// Writes loose XML files, split every `max_nodes` elements.
pub fn write_files(dir: &Directory, degree: Degree, out: &Path, max_nodes: usize) -> Vec<PathBuf> {
    let mut writer = ExportWriter::folder(out, export_name(&dir.ent_id, degree)).unwrap().with_max_nodes(max_nodes);
    writer.write(&dir.of_degree(degree)).unwrap();
    writer.finish().unwrap().paths
}

pub fn feed_config() -> FeedConfig {
    Config::default().feed
}

pub fn register_ents(conn: &mut AnyConnection, ents: &[&str]) {
    for ent in ents {
        partners::insert_ent_project(conn, ent, &format!("ENT {ent}")).unwrap();
    }
}

pub fn import_with(conn: &mut AnyConnection, ent: &str, export: &Export, config: &FeedConfig, accept: bool) -> Outcome {
    let pseudonyms = crate::ledger::pseudonyms();
    let options = feed::Options {
        actor: Actor::operator(),
        accept_large_deletion: accept,
        config,
        progress: &Silent,
        pseudonyms: &pseudonyms,
    };
    feed::import(conn, ent, export, &options).unwrap()
}

pub fn import(conn: &mut AnyConnection, ent: &str, export: &Export) -> Outcome {
    import_with(conn, ent, export, &feed_config(), false)
}

pub fn bundle(path: &Path) -> Export {
    Export::bundle(path).unwrap()
}

pub fn files(paths: Vec<PathBuf>) -> Export {
    Export::Files { files: paths, name: "test files".into() }
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

pub fn count(conn: &mut AnyConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<Count>(conn).unwrap_or_else(|e| panic!("{sql}: {e}")).n
}

/// The directory as sorted text lines, by natural keys (no row ids, no timestamps), so that two
/// databases or two moments can be compared.
pub fn snapshot(conn: &mut AnyConnection) -> Vec<String> {
    let queries = [
        "SELECT 'etab|' || uai || '|' || ent_id || '|' || name || '|' || degree || '|' || COALESCE(contract, '') \
         || '|' || COALESCE(phone, '') || '|' || COALESCE(email, '') || '|' || COALESCE(functional_attachment, '') AS line \
         FROM establishments",
        "SELECT 'person|' || ent_id || '|' || gar_id || '|' || source || '|' || COALESCE(birth_name, '') || '|' || last_name \
         || '|' || first_name || '|' || other_first_names || '|' || COALESCE(civility, '') || '|' || COALESCE(attachment_uai, '') \
         || '|' || COALESCE(CAST(birth_date AS TEXT), '') || '|' || mails || '|' || CASE WHEN removed_at IS NULL THEN 'live' ELSE 'removed' END AS line FROM persons",
        "SELECT 'pe|' || p.gar_id || '|' || x.uai AS line FROM person_establishments x JOIN persons p ON p.id = x.person_id",
        "SELECT 'pp|' || p.gar_id || '|' || x.uai || '|' || x.profile AS line FROM person_profiles x JOIN persons p ON p.id = x.person_id",
        "SELECT 'tp|' || p.gar_id || '|' || x.uai || '|' || x.code || '|' || x.kind AS line FROM teacher_posts x JOIN persons p ON p.id = x.person_id",
        "SELECT 'mef|' || uai || '|' || code || '|' || label || '|' || COALESCE(attachment, '') || '|' || COALESCE(stat11, '') AS line FROM mefs",
        "SELECT 'subject|' || uai || '|' || code || '|' || label AS line FROM subjects",
        "SELECT 'group|' || uai || '|' || code || '|' || label || '|' || status AS line FROM school_groups",
        "SELECT 'div|' || g.uai || '|' || g.code || '|' || d.division_code AS line FROM group_divisions d JOIN school_groups g ON g.id = d.group_id",
        "SELECT 'pg|' || p.gar_id || '|' || g.uai || '|' || g.code AS line FROM person_groups x JOIN persons p ON p.id = x.person_id JOIN school_groups g ON g.id = x.group_id",
        "SELECT 'tgs|' || p.gar_id || '|' || g.uai || '|' || g.code || '|' || x.subject_code AS line FROM teacher_group_subjects x JOIN persons p ON p.id = x.person_id JOIN school_groups g ON g.id = x.group_id",
        "SELECT 'pm|' || p.gar_id || '|' || x.uai || '|' || x.mef_code AS line FROM person_mefs x JOIN persons p ON p.id = x.person_id",
        "SELECT 'p4|' || p.gar_id || '|' || x.uai || '|' || x.code AS line FROM person_mefstat4 x JOIN persons p ON p.id = x.person_id",
        "SELECT 'ps|' || p.gar_id || '|' || x.uai || '|' || x.subject_code AS line FROM pupil_subjects x JOIN persons p ON p.id = x.person_id",
        "SELECT 'ram|' || ent_id || '|' || gar_id || '|' || last_name || '|' || first_name || '|' || COALESCE(civility, '') || '|' || mails AS line FROM assignment_managers",
        "SELECT 'rae|' || m.gar_id || '|' || x.uai AS line FROM assignment_manager_establishments x JOIN assignment_managers m ON m.id = x.manager_id",
    ];
    let mut lines: Vec<String> = queries
        .iter()
        .flat_map(|sql| diesel::sql_query(*sql).load::<Line>(conn).unwrap_or_else(|e| panic!("{sql}: {e}")))
        .map(|l| l.line)
        .collect();
    lines.sort();
    lines
}

/// `dir` without these persons and anything naming them, as the next night's export would be.
pub fn without_persons(dir: &Directory, gar_ids: &[&str]) -> Directory {
    let gone = |id: &String| gar_ids.contains(&id.as_str());
    let mut dir = dir.clone();
    dir.persons.retain(|p| !gone(&p.gar_id));
    dir.person_mefs.retain(|x| !gone(&x.gar_id));
    dir.person_mefstat4.retain(|x| !gone(&x.gar_id));
    dir.pupil_subjects.retain(|x| !gone(&x.gar_id));
    dir.person_groups.retain(|x| !gone(&x.gar_id));
    dir.class_subjects.retain(|x| !gone(&x.gar_id));
    dir.group_subjects.retain(|x| !gone(&x.gar_id));
    dir.assignment_managers.retain(|x| !gone(&x.gar_id));
    dir
}

/// GARPersonIdentifiant of the pupils of one school.
pub fn pupils_of(dir: &Directory, uai: &str) -> Vec<String> {
    dir.persons
        .iter()
        .filter(|p| p.source == sesame::domain::directory::PersonSource::Pupil)
        .filter(|p| p.establishments.iter().any(|u| u.as_str() == uai))
        .map(|p| p.gar_id.clone())
        .collect()
}

/// The `persons.id` of a person.
pub fn person_id(conn: &mut AnyConnection, gar_id: &str) -> i64 {
    count(conn, &format!("SELECT id AS n FROM persons WHERE gar_id = '{gar_id}'"))
}

/// Statuses of the stored imports, oldest first.
pub fn statuses(conn: &mut AnyConnection) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Status {
        #[diesel(sql_type = Text)]
        status: String,
    }
    diesel::sql_query("SELECT status FROM feed_imports ORDER BY id")
        .load::<Status>(conn)
        .unwrap()
        .into_iter()
        .map(|s| s.status)
        .collect()
}

/// Audit event kinds, in order.
pub fn audit_kinds(conn: &mut AnyConnection) -> Vec<String> {
    sesame::store::audit::events_after(conn, 0, 1000).unwrap().into_iter().map(|e| e.kind).collect()
}

/// Replaces `from` by `to` in the one written file whose name contains `file_part` and whose
/// text contains `from`.
pub fn edit(paths: &[PathBuf], file_part: &str, from: &str, to: &str) {
    let path = paths
        .iter()
        .find(|p| p.to_string_lossy().contains(file_part) && std::fs::read_to_string(p).unwrap().contains(from))
        .unwrap_or_else(|| panic!("no {file_part} file holds {from:?}"));
    let text = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// Runs `xmllint --noout --schema` (installed by scripts/test) and panics with its output on failure.
pub fn xmllint(schema: &Path, files: &[PathBuf]) {
    let output = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(schema)
        .args(files)
        .output()
        .expect("xmllint runs (scripts/test installs libxml2-utils)");
    assert!(
        output.status.success(),
        "xmllint refused the files:\n{}",
        String::from_utf8_lossy(&output.stderr).lines().take(30).collect::<Vec<_>>().join("\n")
    );
}

/// A file of the repository.
pub fn repo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}
