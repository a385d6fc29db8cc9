//! Staging: an export's records streamed into temporary tables of the import's connection.
//!
//! Temporary tables cost no write-ahead log on PostgreSQL, take no lock on SQLite's main database
//! (other nodes and requests keep writing while an export is parsed), and vanish with the
//! connection if the import dies. They have no keys while rows stream in (appending is what keeps
//! a million-person export fast: PostgreSQL gets them by `COPY`); `index_tables` adds the indexes
//! the checks need once the whole export is in. Records repeated across files are merged later
//! (`check`), and the links of a repeated person simply appear twice, which the final writes ignore.
//! Every row carries where it came from (file, line, record index) for the report, and a hash of its
//! content for the person digests (`apply`).

use chrono::NaiveDate;
use diesel::prelude::*;
use xxhash_rust::xxh3::Xxh3;

use crate::domain::directory::{
    AssignmentManager, Establishment, Group, Mef, Person, PersonGroup, PersonMef, PersonMefStat4, PupilSubject,
    Subject, TeacherGroupSubject,
};
use crate::store::{AnyConnection, StoreError};

/// Where a staged record came from: file number in the export, line, and 1-based index among
/// the root's children of the same name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    pub file: i32,
    pub line: i64,
    pub index: i32,
}

/// A record and its origin.
#[derive(Clone, Debug)]
pub struct Staged<T> {
    pub record: T,
    pub origin: Origin,
}

/// Records waiting to be written; `stage` empties it.
#[derive(Default)]
pub struct Batch {
    pub establishments: Vec<Staged<Establishment>>,
    pub mefs: Vec<Staged<Mef>>,
    pub subjects: Vec<Staged<Subject>>,
    pub persons: Vec<Staged<Person>>,
    pub person_mefs: Vec<Staged<PersonMef>>,
    pub person_mefstat4: Vec<Staged<PersonMefStat4>>,
    pub pupil_subjects: Vec<Staged<PupilSubject>>,
    pub groups: Vec<Staged<Group>>,
    pub person_groups: Vec<Staged<PersonGroup>>,
    pub class_subjects: Vec<Staged<TeacherGroupSubject>>,
    pub group_subjects: Vec<Staged<TeacherGroupSubject>>,
    pub managers: Vec<Staged<AssignmentManager>>,
    /// Keys of records refused by the parser, as (kind, key, key): what they name is left alone.
    pub refused: Vec<(&'static str, String, String)>,
}

/// The staging tables. Item tables share one shape: a person, an establishment and up to two codes
/// (`a`, `b`), whose meaning each table's comment gives. The keys named here only satisfy diesel:
/// the tables have none.
pub(super) mod tables {
    macro_rules! item_table {
        ($name:ident) => {
            diesel::table! {
                $name (gar_id, uai, a, b) {
                    gar_id -> Text,
                    uai -> Text,
                    a -> Text,
                    b -> Text,
                    h1 -> Integer,
                    h2 -> Integer,
                    file -> Integer,
                    line -> BigInt,
                    idx -> Integer,
                }
            }
        };
    }

    diesel::table! {
        feed_stage_establishments (uai, h1, h2) {
            uai -> Text,
            name -> Text,
            functional_attachment -> Nullable<Text>,
            contract -> Nullable<Text>,
            phone -> Nullable<Text>,
            email -> Nullable<Text>,
            h1 -> Integer,
            h2 -> Integer,
            file -> Integer,
            line -> BigInt,
            idx -> Integer,
        }
    }

    diesel::table! {
        feed_stage_mefs (uai, code, h1, h2) {
            uai -> Text,
            code -> Text,
            label -> Text,
            attachment -> Nullable<Text>,
            stat11 -> Nullable<Text>,
            h1 -> Integer,
            h2 -> Integer,
            file -> Integer,
            line -> BigInt,
            idx -> Integer,
        }
    }

    diesel::table! {
        feed_stage_subjects (uai, code, h1, h2) {
            uai -> Text,
            code -> Text,
            label -> Text,
            h1 -> Integer,
            h2 -> Integer,
            file -> Integer,
            line -> BigInt,
            idx -> Integer,
        }
    }

    diesel::table! {
        feed_stage_persons (gar_id, h1, h2) {
            gar_id -> Text,
            source -> Text,
            secondary_id -> Nullable<Text>,
            birth_name -> Nullable<Text>,
            last_name -> Text,
            first_name -> Text,
            other_first_names -> Text,
            civility -> Nullable<Text>,
            attachment_uai -> Nullable<Text>,
            birth_date -> Nullable<Date>,
            mails -> Text,
            h1 -> Integer,
            h2 -> Integer,
            file -> Integer,
            line -> BigInt,
            idx -> Integer,
        }
    }

    diesel::table! {
        feed_stage_groups (uai, code, h1, h2) {
            uai -> Text,
            code -> Text,
            label -> Text,
            status -> Text,
            h1 -> Integer,
            h2 -> Integer,
            file -> Integer,
            line -> BigInt,
            idx -> Integer,
        }
    }

    diesel::table! {
        feed_stage_group_divisions (uai, code, division) {
            uai -> Text,
            code -> Text,
            division -> Text,
            file -> Integer,
            line -> BigInt,
            idx -> Integer,
        }
    }

    diesel::table! {
        feed_stage_managers (gar_id, h1, h2) {
            gar_id -> Text,
            last_name -> Text,
            first_name -> Text,
            civility -> Nullable<Text>,
            mails -> Text,
            h1 -> Integer,
            h2 -> Integer,
            file -> Integer,
            line -> BigInt,
            idx -> Integer,
        }
    }

    diesel::table! {
        feed_stage_rejected (kind, k1, k2) {
            kind -> Text,
            k1 -> Text,
            k2 -> Text,
        }
    }

    diesel::table! {
        feed_stage_manager_establishments (gar_id, uai) {
            gar_id -> Text,
            uai -> Text,
            file -> Integer,
            line -> BigInt,
            idx -> Integer,
        }
    }

    // GARPersonEtab (a = b = '').
    item_table!(feed_stage_person_establishments);
    // GARPersonProfils (a = profile).
    item_table!(feed_stage_person_profiles);
    // GAREnsDisciplinesPostes / GAREnsSpecialitesPostes (a = code, b = DISCIPLINE or SPECIALITE).
    item_table!(feed_stage_teacher_posts);
    // GARPersonMEF (a = MEF code).
    item_table!(feed_stage_person_mefs);
    // GARPersonMEFSTAT4 (a = code).
    item_table!(feed_stage_person_mefstat4);
    // GAREleveEnseignement (a = subject code).
    item_table!(feed_stage_pupil_subjects);
    // GARPersonGroupe (a = group code).
    item_table!(feed_stage_person_groups);
    // GAREnsClasseMatiere (a = division code, b = subject code).
    item_table!(feed_stage_class_subjects);
    // GAREnsGroupeMatiere (a = group code, b = subject code).
    item_table!(feed_stage_group_subjects);
}

/// Item tables keyed by person, as (table, element): what the person digest sums over.
pub(super) const PERSON_ITEMS: [(&str, &str); 9] = [
    ("feed_stage_person_establishments", "GARPersonEtab"),
    ("feed_stage_person_profiles", "GARPersonProfils"),
    ("feed_stage_teacher_posts", "GAREnsDisciplinesPostes"),
    ("feed_stage_person_mefs", "GARPersonMEF"),
    ("feed_stage_person_mefstat4", "GARPersonMEFSTAT4"),
    ("feed_stage_pupil_subjects", "GAREleveEnseignement"),
    ("feed_stage_person_groups", "GARPersonGroupe"),
    ("feed_stage_class_subjects", "GAREnsClasseMatiere"),
    ("feed_stage_group_subjects", "GAREnsGroupeMatiere"),
];

const ORIGIN: &str = "file INTEGER NOT NULL, line BIGINT NOT NULL, idx INTEGER NOT NULL";
const HASH: &str = "h1 INTEGER NOT NULL, h2 INTEGER NOT NULL";

/// `CREATE TEMP TABLE` statements.
fn ddl() -> Vec<String> {
    let mut tables = vec![
        format!(
            "feed_stage_establishments (uai TEXT NOT NULL, name TEXT NOT NULL, functional_attachment TEXT, \
             contract TEXT, phone TEXT, email TEXT, {HASH}, {ORIGIN})"
        ),
        format!(
            "feed_stage_mefs (uai TEXT NOT NULL, code TEXT NOT NULL, label TEXT NOT NULL, attachment TEXT, \
             stat11 TEXT, {HASH}, {ORIGIN})"
        ),
        format!("feed_stage_subjects (uai TEXT NOT NULL, code TEXT NOT NULL, label TEXT NOT NULL, {HASH}, {ORIGIN})"),
        format!(
            "feed_stage_persons (gar_id TEXT NOT NULL, source TEXT NOT NULL, secondary_id TEXT, birth_name TEXT, \
             last_name TEXT NOT NULL, first_name TEXT NOT NULL, other_first_names TEXT NOT NULL, civility TEXT, \
             attachment_uai TEXT, birth_date DATE, mails TEXT NOT NULL, {HASH}, {ORIGIN})"
        ),
        format!(
            "feed_stage_groups (uai TEXT NOT NULL, code TEXT NOT NULL, label TEXT NOT NULL, status TEXT NOT NULL, \
             {HASH}, {ORIGIN})"
        ),
        format!("feed_stage_group_divisions (uai TEXT NOT NULL, code TEXT NOT NULL, division TEXT NOT NULL, {ORIGIN})"),
        format!(
            "feed_stage_managers (gar_id TEXT NOT NULL, last_name TEXT NOT NULL, first_name TEXT NOT NULL, \
             civility TEXT, mails TEXT NOT NULL, {HASH}, {ORIGIN})"
        ),
        format!("feed_stage_manager_establishments (gar_id TEXT NOT NULL, uai TEXT NOT NULL, {ORIGIN})"),
        // Keys of records refused as a whole: what they name is left as it is (`check`, `apply`).
        "feed_stage_rejected (kind TEXT NOT NULL, k1 TEXT NOT NULL, k2 TEXT NOT NULL, PRIMARY KEY (kind, k1, k2))"
            .to_owned(),
    ];
    tables.extend(PERSON_ITEMS.iter().map(|(table, _)| {
        format!("{table} (gar_id TEXT NOT NULL, uai TEXT NOT NULL, a TEXT NOT NULL, b TEXT NOT NULL, {HASH}, {ORIGIN})")
    }));
    tables
}

/// Every temporary table the import creates, staging and working ones, for `drop_tables`.
pub(super) const WORK_TABLES: [&str; 8] = [
    "feed_stage_context",
    "feed_stage_scope",
    "feed_stage_scope_groups",
    "feed_stage_digests",
    "feed_stage_changed",
    "feed_stage_keep",
    "feed_stage_gone",
    "feed_stage_affected",
];

/// Creates empty staging tables on this connection, dropping leftovers of an earlier import.
pub fn create_tables(conn: &mut AnyConnection) -> Result<(), StoreError> {
    drop_tables(conn)?;
    for table in ddl() {
        diesel::sql_query(format!("CREATE TEMP TABLE {table}")).execute(conn)?;
    }
    Ok(())
}

/// Drops the import's temporary tables (a pooled connection outlives the import).
pub fn drop_tables(conn: &mut AnyConnection) -> Result<(), StoreError> {
    let names = ddl().into_iter().map(|t| t.split_whitespace().next().unwrap_or_default().to_owned());
    for name in names.chain(WORK_TABLES.iter().map(|t| (*t).to_owned())) {
        let sql = match conn {
            AnyConnection::Sqlite(_) => format!("DROP TABLE IF EXISTS temp.{name}"),
            AnyConnection::Postgresql(_) => format!("DROP TABLE IF EXISTS pg_temp.{name}"),
        };
        diesel::sql_query(sql).execute(conn)?;
    }
    Ok(())
}

/// A content hash split in two non-negative 31-bit halves, so that sums of many fit in 64 bits
/// on both backends.
pub(super) fn hash(parts: &[Option<&str>]) -> (i32, i32) {
    let mut hasher = Xxh3::new();
    for part in parts {
        match part {
            // 0xFF never occurs in UTF-8: parts cannot run into each other.
            Some(text) => {
                hasher.update(&[0xFE]);
                hasher.update(text.as_bytes());
            }
            None => hasher.update(&[0xFF]),
        }
    }
    let value = hasher.digest();
    ((value & 0x7fff_ffff) as i32, ((value >> 32) & 0x7fff_ffff) as i32)
}

fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).expect("a list of strings always serializes")
}

macro_rules! row_origin {
    ($origin:expr) => {
        ($origin.file, $origin.line, $origin.index)
    };
}

#[derive(Insertable)]
#[diesel(table_name = tables::feed_stage_establishments, treat_none_as_default_value = false)]
struct EstablishmentRow<'a> {
    uai: &'a str,
    name: &'a str,
    functional_attachment: Option<&'a str>,
    contract: Option<&'a str>,
    phone: Option<&'a str>,
    email: Option<&'a str>,
    h1: i32,
    h2: i32,
    file: i32,
    line: i64,
    idx: i32,
}

#[derive(Insertable)]
#[diesel(table_name = tables::feed_stage_mefs, treat_none_as_default_value = false)]
struct MefRow<'a> {
    uai: &'a str,
    code: &'a str,
    label: &'a str,
    attachment: Option<&'a str>,
    stat11: Option<&'a str>,
    h1: i32,
    h2: i32,
    file: i32,
    line: i64,
    idx: i32,
}

#[derive(Insertable)]
#[diesel(table_name = tables::feed_stage_subjects, treat_none_as_default_value = false)]
struct SubjectRow<'a> {
    uai: &'a str,
    code: &'a str,
    label: &'a str,
    h1: i32,
    h2: i32,
    file: i32,
    line: i64,
    idx: i32,
}

/// Owned, so that SQLite can reuse one prepared statement (see `append_many`).
#[derive(Insertable)]
#[diesel(table_name = tables::feed_stage_persons, treat_none_as_default_value = false)]
struct PersonRow {
    gar_id: String,
    source: &'static str,
    secondary_id: Option<String>,
    birth_name: Option<String>,
    last_name: String,
    first_name: String,
    other_first_names: String,
    civility: Option<String>,
    attachment_uai: Option<String>,
    birth_date: Option<NaiveDate>,
    mails: String,
    h1: i32,
    h2: i32,
    file: i32,
    line: i64,
    idx: i32,
}

#[derive(Insertable)]
#[diesel(table_name = tables::feed_stage_groups, treat_none_as_default_value = false)]
struct GroupRow<'a> {
    uai: &'a str,
    code: &'a str,
    label: &'a str,
    status: &'a str,
    h1: i32,
    h2: i32,
    file: i32,
    line: i64,
    idx: i32,
}

#[derive(Insertable)]
#[diesel(table_name = tables::feed_stage_group_divisions, treat_none_as_default_value = false)]
struct GroupDivisionRow<'a> {
    uai: &'a str,
    code: &'a str,
    division: &'a str,
    file: i32,
    line: i64,
    idx: i32,
}

#[derive(Insertable)]
#[diesel(table_name = tables::feed_stage_managers, treat_none_as_default_value = false)]
struct ManagerRow<'a> {
    gar_id: &'a str,
    last_name: &'a str,
    first_name: &'a str,
    civility: Option<&'a str>,
    mails: String,
    h1: i32,
    h2: i32,
    file: i32,
    line: i64,
    idx: i32,
}

#[derive(Insertable)]
#[diesel(table_name = tables::feed_stage_manager_establishments, treat_none_as_default_value = false)]
struct ManagerEstablishmentRow<'a> {
    gar_id: &'a str,
    uai: &'a str,
    file: i32,
    line: i64,
    idx: i32,
}

/// One row of an item table (all share the columns of `feed_stage_person_establishments`).
/// Owned, so that SQLite can reuse one prepared statement per table (see `append_many`).
struct ItemRow {
    gar_id: String,
    uai: String,
    a: String,
    b: String,
    h1: i32,
    h2: i32,
    file: i32,
    line: i64,
    idx: i32,
}

impl ItemRow {
    /// `kind` keeps equal values of two tables from hashing alike.
    fn new(kind: &str, gar_id: String, uai: String, a: String, b: String, origin: Origin) -> Self {
        let (h1, h2) = hash(&[Some(kind), Some(&uai), Some(&a), Some(&b)]);
        let (file, line, idx) = row_origin!(origin);
        Self { gar_id, uai, a, b, h1, h2, file, line, idx }
    }
}

/// Appends a few rows (structure records): `COPY` on PostgreSQL, multi-row inserts on SQLite.
macro_rules! append {
    ($conn:expr, $table:expr, $rows:expr) => {{
        if !$rows.is_empty() {
            match &mut *$conn {
                AnyConnection::Sqlite(c) => {
                    for chunk in $rows.chunks(SQLITE_ROWS_PER_INSERT) {
                        diesel::insert_into($table).values(chunk).execute(c)?;
                    }
                }
                AnyConnection::Postgresql(c) => {
                    diesel::copy_from($table).from_insertable(&$rows[..]).execute(c)?;
                }
            }
        }
    }};
}

/// Appends many owned rows (persons and their links). On SQLite, inserts of exactly
/// `SQLITE_ROWS_PER_INSERT` rows have a static query id, so diesel prepares the statement once
/// and reuses it: preparing a statement of thousands of placeholders for every chunk cost more
/// than the inserts themselves.
macro_rules! append_many {
    ($conn:expr, $table:expr, $rows:expr) => {{
        if !$rows.is_empty() {
            match &mut *$conn {
                AnyConnection::Sqlite(c) => {
                    let mut chunks = $rows.chunks_exact(SQLITE_ROWS_PER_INSERT);
                    for chunk in &mut chunks {
                        let chunk: &[_; SQLITE_ROWS_PER_INSERT] = chunk.try_into().expect("chunks_exact");
                        diesel::insert_into($table).values(chunk).execute(c)?;
                    }
                    let rest = chunks.remainder();
                    if !rest.is_empty() {
                        diesel::insert_into($table).values(rest).execute(c)?;
                    }
                }
                AnyConnection::Postgresql(c) => {
                    diesel::copy_from($table).from_insertable(&$rows[..]).execute(c)?;
                }
            }
        }
    }};
}

/// Rows per SQLite insert statement; measured faster than both single rows and statements as
/// large as the bind limit allows.
const SQLITE_ROWS_PER_INSERT: usize = 128;

/// Item rows into one of the item tables (same columns, re-targeted here).
macro_rules! insert_items {
    ($conn:expr, $table:ident, $rows:expr) => {{
        use tables::$table as t;
        let rows: Vec<_> = $rows
            .into_iter()
            .map(|r: ItemRow| {
                (
                    t::gar_id.eq(r.gar_id),
                    t::uai.eq(r.uai),
                    t::a.eq(r.a),
                    t::b.eq(r.b),
                    t::h1.eq(r.h1),
                    t::h2.eq(r.h2),
                    t::file.eq(r.file),
                    t::line.eq(r.line),
                    t::idx.eq(r.idx),
                )
            })
            .collect();
        append_many!($conn, t::table, rows);
    }};
}

/// Writes a batch into the staging tables and empties it.
pub fn stage(conn: &mut AnyConnection, batch: &mut Batch) -> Result<(), StoreError> {
    stage_structure(conn, batch)?;
    stage_persons(conn, std::mem::take(&mut batch.persons))?;
    stage_links(conn, batch)?;
    stage_managers(conn, batch)?;
    let refused: Vec<_> = batch
        .refused
        .iter()
        .map(|(kind, k1, k2)| {
            use tables::feed_stage_rejected as t;
            (t::kind.eq(*kind), t::k1.eq(k1.as_str()), t::k2.eq(k2.as_str()))
        })
        .collect();
    for chunk in refused.chunks(SQLITE_ROWS_PER_INSERT) {
        match &mut *conn {
            AnyConnection::Sqlite(c) => diesel::insert_into(tables::feed_stage_rejected::table)
                .values(chunk)
                .on_conflict_do_nothing()
                .execute(c)?,
            AnyConnection::Postgresql(c) => diesel::insert_into(tables::feed_stage_rejected::table)
                .values(chunk)
                .on_conflict_do_nothing()
                .execute(c)?,
        };
    }
    *batch = Batch::default();
    Ok(())
}

fn stage_structure(conn: &mut AnyConnection, batch: &Batch) -> Result<(), StoreError> {
    let rows: Vec<_> = batch
        .establishments
        .iter()
        .map(|Staged { record: e, origin }| {
            let (h1, h2) = hash(&[
                Some(e.uai.as_str()),
                Some(&e.name),
                e.functional_attachment.as_deref(),
                e.contract.as_deref(),
                e.phone.as_deref(),
                e.email.as_deref(),
            ]);
            let (file, line, idx) = row_origin!(origin);
            EstablishmentRow {
                uai: e.uai.as_str(),
                name: &e.name,
                functional_attachment: e.functional_attachment.as_deref(),
                contract: e.contract.as_deref(),
                phone: e.phone.as_deref(),
                email: e.email.as_deref(),
                h1,
                h2,
                file,
                line,
                idx,
            }
        })
        .collect();
    append!(conn, tables::feed_stage_establishments::table, rows);

    let rows: Vec<_> = batch
        .mefs
        .iter()
        .map(|Staged { record: m, origin }| {
            let (h1, h2) = hash(&[Some(m.label.as_str()), m.attachment.as_deref(), m.stat11.as_deref()]);
            let (file, line, idx) = row_origin!(origin);
            MefRow {
                uai: m.uai.as_str(),
                code: &m.code,
                label: &m.label,
                attachment: m.attachment.as_deref(),
                stat11: m.stat11.as_deref(),
                h1,
                h2,
                file,
                line,
                idx,
            }
        })
        .collect();
    append!(conn, tables::feed_stage_mefs::table, rows);

    let rows: Vec<_> = batch
        .subjects
        .iter()
        .map(|Staged { record: s, origin }| {
            let (h1, h2) = hash(&[Some(s.label.as_str())]);
            let (file, line, idx) = row_origin!(origin);
            SubjectRow { uai: s.uai.as_str(), code: &s.code, label: &s.label, h1, h2, file, line, idx }
        })
        .collect();
    append!(conn, tables::feed_stage_subjects::table, rows);

    let rows: Vec<_> = batch
        .groups
        .iter()
        .map(|Staged { record: g, origin }| {
            let (h1, h2) = hash(&[Some(g.label.as_str()), Some(g.status.code())]);
            let (file, line, idx) = row_origin!(origin);
            GroupRow {
                uai: g.uai.as_str(),
                code: &g.code,
                label: &g.label,
                status: g.status.code(),
                h1,
                h2,
                file,
                line,
                idx,
            }
        })
        .collect();
    append!(conn, tables::feed_stage_groups::table, rows);

    let rows: Vec<_> = batch
        .groups
        .iter()
        .flat_map(|Staged { record: g, origin }| {
            g.divisions.iter().map(move |division| {
                let (file, line, idx) = row_origin!(origin);
                GroupDivisionRow { uai: g.uai.as_str(), code: &g.code, division, file, line, idx }
            })
        })
        .collect();
    append!(conn, tables::feed_stage_group_divisions::table, rows);
    Ok(())
}

fn stage_persons(conn: &mut AnyConnection, persons: Vec<Staged<Person>>) -> Result<(), StoreError> {
    let mut rows = Vec::with_capacity(persons.len());
    let (mut schools, mut profiles, mut posts) = (Vec::new(), Vec::new(), Vec::new());
    for Staged { record: p, origin } in persons {
        let (other_first_names, mails) = (json_list(&p.other_first_names), json_list(&p.mails));
        let birth_date = p.birth_date.map(|d| d.to_string());
        let (h1, h2) = hash(&[
            Some(p.source.code()),
            p.secondary_id.as_deref(),
            p.birth_name.as_deref(),
            Some(&p.last_name),
            Some(&p.first_name),
            Some(&other_first_names),
            p.civility.as_deref(),
            p.attachment_uai.as_ref().map(|u| u.as_str()),
            birth_date.as_deref(),
            Some(&mails),
        ]);
        let (file, line, idx) = row_origin!(origin);
        for uai in p.establishments {
            schools.push(ItemRow::new("E", p.gar_id.clone(), uai.into(), String::new(), String::new(), origin));
        }
        for at in p.profiles {
            profiles.push(ItemRow::new(
                "P",
                p.gar_id.clone(),
                at.uai.into(),
                at.profile.code().into(),
                String::new(),
                origin,
            ));
        }
        for post in p.teacher_posts {
            let (uai, kind): (String, String) = (post.uai.into(), post.kind.code().into());
            for code in post.codes {
                posts.push(ItemRow::new("T", p.gar_id.clone(), uai.clone(), code, kind.clone(), origin));
            }
        }
        rows.push(PersonRow {
            gar_id: p.gar_id,
            source: p.source.code(),
            secondary_id: p.secondary_id,
            birth_name: p.birth_name,
            last_name: p.last_name,
            first_name: p.first_name,
            other_first_names,
            civility: p.civility,
            attachment_uai: p.attachment_uai.map(String::from),
            birth_date: p.birth_date,
            mails,
            h1,
            h2,
            file,
            line,
            idx,
        });
    }
    append_many!(conn, tables::feed_stage_persons::table, rows);
    insert_items!(conn, feed_stage_person_establishments, schools);
    insert_items!(conn, feed_stage_person_profiles, profiles);
    insert_items!(conn, feed_stage_teacher_posts, posts);
    Ok(())
}

fn stage_links(conn: &mut AnyConnection, batch: &mut Batch) -> Result<(), StoreError> {
    let rows = std::mem::take(&mut batch.person_mefs).into_iter().map(|Staged { record: m, origin }| {
        ItemRow::new("M", m.gar_id, m.uai.into(), m.mef_code, String::new(), origin)
    });
    insert_items!(conn, feed_stage_person_mefs, rows);

    let rows = std::mem::take(&mut batch.person_mefstat4)
        .into_iter()
        .map(|Staged { record: m, origin }| ItemRow::new("4", m.gar_id, m.uai.into(), m.code, String::new(), origin));
    insert_items!(conn, feed_stage_person_mefstat4, rows);

    let rows = std::mem::take(&mut batch.pupil_subjects).into_iter().map(|Staged { record: s, origin }| {
        ItemRow::new("S", s.gar_id, s.uai.into(), s.subject_code, String::new(), origin)
    });
    insert_items!(conn, feed_stage_pupil_subjects, rows);

    let rows = std::mem::take(&mut batch.person_groups).into_iter().map(|Staged { record: m, origin }| {
        ItemRow::new("G", m.gar_id, m.uai.into(), m.group_code, String::new(), origin)
    });
    insert_items!(conn, feed_stage_person_groups, rows);

    fn teaching(list: Vec<Staged<TeacherGroupSubject>>, kind: &'static str) -> Vec<ItemRow> {
        let mut rows = Vec::new();
        for Staged { record: t, origin } in list {
            let uai: String = t.uai.into();
            for code in t.subject_codes {
                rows.push(ItemRow::new(kind, t.gar_id.clone(), uai.clone(), t.group_code.clone(), code, origin));
            }
        }
        rows
    }
    insert_items!(conn, feed_stage_class_subjects, teaching(std::mem::take(&mut batch.class_subjects), "C"));
    insert_items!(conn, feed_stage_group_subjects, teaching(std::mem::take(&mut batch.group_subjects), "R"));
    Ok(())
}

fn stage_managers(conn: &mut AnyConnection, batch: &Batch) -> Result<(), StoreError> {
    let rows: Vec<_> = batch
        .managers
        .iter()
        .map(|Staged { record: m, origin }| {
            let mails = json_list(&m.mails);
            let (h1, h2) = hash(&[Some(&m.last_name), Some(&m.first_name), m.civility.as_deref(), Some(&mails)]);
            let (file, line, idx) = row_origin!(origin);
            ManagerRow {
                gar_id: &m.gar_id,
                last_name: &m.last_name,
                first_name: &m.first_name,
                civility: m.civility.as_deref(),
                mails,
                h1,
                h2,
                file,
                line,
                idx,
            }
        })
        .collect();
    append!(conn, tables::feed_stage_managers::table, rows);

    let rows: Vec<_> = batch
        .managers
        .iter()
        .flat_map(|Staged { record: m, origin }| {
            m.establishments.iter().map(move |uai| {
                let (file, line, idx) = row_origin!(origin);
                ManagerEstablishmentRow { gar_id: &m.gar_id, uai: uai.as_str(), file, line, idx }
            })
        })
        .collect();
    append!(conn, tables::feed_stage_manager_establishments::table, rows);
    Ok(())
}
