//! Writing one ENT project's directory (GAR-ENT records) into the tables, in bulk.
//!
//! Built for académie scale (a million persons): rows go in multi-row statements, and row ids are
//! read back once per table by natural key instead of one `RETURNING` per record.

use std::collections::HashMap;
use std::ops::AddAssign;

use chrono::{NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::schema::{
    assignment_manager_establishments, assignment_managers, establishments, group_divisions, mefs,
    person_establishments, person_groups, person_mefs, person_mefstat4, person_profiles, persons, pupil_subjects,
    school_groups, subjects, teacher_group_subjects, teacher_posts,
};
use super::{AnyConnection, StoreError, write_transaction};
use crate::domain::directory::{Directory, TeacherGroupSubject};

/// Most bind parameters per statement: SQLite allows 32,766 by default, PostgreSQL 65,535.
pub(crate) const MAX_BINDS: usize = 30_000;

/// Inserts `$rows` (a slice or Vec of `Insertable` rows of `$columns` columns each) in as few
/// multi-row statements as the bind limit allows, and evaluates to the number of rows inserted.
///
/// Diesel's multi-backend connection cannot batch-insert into SQLite, so each chunk is dispatched
/// to the concrete connection. Rows must hold no `DEFAULT` values (derive `Insertable` with
/// `treat_none_as_default_value = false`), otherwise diesel falls back to one SQLite statement per row.
macro_rules! insert_in_batches {
    ($conn:expr, $table:expr, $rows:expr, $columns:expr) => {{
        let mut inserted = 0usize;
        for chunk in $rows.chunks($crate::store::directory::MAX_BINDS / $columns) {
            inserted += match &mut *$conn {
                $crate::store::AnyConnection::Sqlite(c) => diesel::insert_into($table).values(chunk).execute(c)?,
                $crate::store::AnyConnection::Postgresql(c) => diesel::insert_into($table).values(chunk).execute(c)?,
            };
        }
        inserted
    }};
}
pub(crate) use insert_in_batches;

/// How many rows each table received.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DirectoryCounts {
    pub establishments: usize,
    pub mefs: usize,
    pub subjects: usize,
    pub persons: usize,
    pub person_establishments: usize,
    pub person_profiles: usize,
    pub teacher_posts: usize,
    pub person_mefs: usize,
    pub person_mefstat4: usize,
    pub pupil_subjects: usize,
    pub groups: usize,
    pub group_divisions: usize,
    pub person_groups: usize,
    pub teacher_group_subjects: usize,
    pub assignment_managers: usize,
    pub assignment_manager_establishments: usize,
}

impl AddAssign for DirectoryCounts {
    fn add_assign(&mut self, other: Self) {
        self.establishments += other.establishments;
        self.mefs += other.mefs;
        self.subjects += other.subjects;
        self.persons += other.persons;
        self.person_establishments += other.person_establishments;
        self.person_profiles += other.person_profiles;
        self.teacher_posts += other.teacher_posts;
        self.person_mefs += other.person_mefs;
        self.person_mefstat4 += other.person_mefstat4;
        self.pupil_subjects += other.pupil_subjects;
        self.groups += other.groups;
        self.group_divisions += other.group_divisions;
        self.person_groups += other.person_groups;
        self.teacher_group_subjects += other.teacher_group_subjects;
        self.assignment_managers += other.assignment_managers;
        self.assignment_manager_establishments += other.assignment_manager_establishments;
    }
}

/// Writes every record of `dir` in one transaction (a savepoint when the caller has one open).
///
/// The directory must be new to the database and free of duplicate keys (feed files may repeat
/// records across files; de-duplicate before calling). A record naming a person, group or school
/// the directory does not define fails the whole call with a foreign-key violation.
pub fn insert_directory(conn: &mut AnyConnection, dir: &Directory) -> Result<DirectoryCounts, StoreError> {
    write_transaction(conn, |conn| {
        let now = Utc::now().naive_utc();
        let mut counts = DirectoryCounts::default();
        insert_establishments(conn, dir, now, &mut counts)?;
        insert_persons(conn, dir, now, &mut counts)?;
        let person_ids = person_ids(conn, &dir.ent_id)?;
        insert_person_links(conn, dir, &person_ids, &mut counts)?;
        insert_groups(conn, dir, &person_ids, &mut counts)?;
        insert_managers(conn, dir, now, &mut counts)?;
        Ok(counts)
    })
}

/// What the database itself would report for a dangling reference, raised before the insert.
fn unknown(what: String) -> DieselError {
    DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, Box::new(what))
}

fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).expect("a list of strings always serializes")
}

#[derive(Insertable)]
#[diesel(table_name = establishments, treat_none_as_default_value = false)]
struct EstablishmentRow<'a> {
    uai: &'a str,
    ent_id: &'a str,
    name: &'a str,
    degree: i32,
    contract: Option<&'a str>,
    phone: Option<&'a str>,
    email: Option<&'a str>,
    functional_attachment: Option<&'a str>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = mefs, treat_none_as_default_value = false)]
struct MefRow<'a> {
    uai: &'a str,
    code: &'a str,
    label: &'a str,
    attachment: Option<&'a str>,
    stat11: Option<&'a str>,
}

#[derive(Insertable)]
#[diesel(table_name = subjects, treat_none_as_default_value = false)]
struct SubjectRow<'a> {
    uai: &'a str,
    code: &'a str,
    label: &'a str,
}

fn insert_establishments(
    conn: &mut AnyConnection,
    dir: &Directory,
    now: NaiveDateTime,
    counts: &mut DirectoryCounts,
) -> QueryResult<()> {
    let rows: Vec<_> = dir
        .establishments
        .iter()
        .map(|e| EstablishmentRow {
            uai: e.uai.as_str(),
            ent_id: &dir.ent_id,
            name: &e.name,
            degree: i32::from(e.degree.number()),
            contract: e.contract.as_deref(),
            phone: e.phone.as_deref(),
            email: e.email.as_deref(),
            functional_attachment: e.functional_attachment.as_deref(),
            created_at: now,
            updated_at: now,
        })
        .collect();
    counts.establishments = insert_in_batches!(conn, establishments::table, rows, 10);

    let rows: Vec<_> = dir
        .mefs
        .iter()
        .map(|m| MefRow {
            uai: m.uai.as_str(),
            code: &m.code,
            label: &m.label,
            attachment: m.attachment.as_deref(),
            stat11: m.stat11.as_deref(),
        })
        .collect();
    counts.mefs = insert_in_batches!(conn, mefs::table, rows, 5);

    let rows: Vec<_> =
        dir.subjects.iter().map(|s| SubjectRow { uai: s.uai.as_str(), code: &s.code, label: &s.label }).collect();
    counts.subjects = insert_in_batches!(conn, subjects::table, rows, 3);
    Ok(())
}

#[derive(Insertable)]
#[diesel(table_name = persons, treat_none_as_default_value = false)]
struct PersonRow<'a> {
    ent_id: &'a str,
    gar_id: &'a str,
    source: &'a str,
    secondary_id: Option<&'a str>,
    birth_name: Option<&'a str>,
    last_name: &'a str,
    first_name: &'a str,
    other_first_names: String,
    civility: Option<&'a str>,
    attachment_uai: Option<&'a str>,
    birth_date: Option<NaiveDate>,
    mails: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

fn insert_persons(
    conn: &mut AnyConnection,
    dir: &Directory,
    now: NaiveDateTime,
    counts: &mut DirectoryCounts,
) -> QueryResult<()> {
    let rows: Vec<_> = dir
        .persons
        .iter()
        .map(|p| PersonRow {
            ent_id: &dir.ent_id,
            gar_id: &p.gar_id,
            source: p.source.code(),
            secondary_id: p.secondary_id.as_deref(),
            birth_name: p.birth_name.as_deref(),
            last_name: &p.last_name,
            first_name: &p.first_name,
            other_first_names: json_list(&p.other_first_names),
            civility: p.civility.as_deref(),
            attachment_uai: p.attachment_uai.as_ref().map(|uai| uai.as_str()),
            birth_date: p.birth_date,
            mails: json_list(&p.mails),
            created_at: now,
            updated_at: now,
        })
        .collect();
    counts.persons = insert_in_batches!(conn, persons::table, rows, 14);
    Ok(())
}

/// GARPersonIdentifiant → `persons.id`, for one ENT project.
fn person_ids(conn: &mut AnyConnection, ent_id: &str) -> QueryResult<HashMap<String, i64>> {
    let rows: Vec<(String, i64)> =
        persons::table.filter(persons::ent_id.eq(ent_id)).select((persons::gar_id, persons::id)).load(conn)?;
    Ok(rows.into_iter().collect())
}

fn person_id(ids: &HashMap<String, i64>, gar_id: &str, element: &str) -> QueryResult<i64> {
    ids.get(gar_id).copied().ok_or_else(|| unknown(format!("{element} names unknown person `{gar_id}`")))
}

#[derive(Insertable)]
#[diesel(table_name = person_establishments, treat_none_as_default_value = false)]
struct PersonEstablishmentRow<'a> {
    person_id: i64,
    uai: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = person_profiles, treat_none_as_default_value = false)]
struct PersonProfileRow<'a> {
    person_id: i64,
    uai: &'a str,
    profile: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = teacher_posts, treat_none_as_default_value = false)]
struct TeacherPostRow<'a> {
    person_id: i64,
    uai: &'a str,
    code: &'a str,
    kind: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = person_mefs, treat_none_as_default_value = false)]
struct PersonMefRow<'a> {
    person_id: i64,
    uai: &'a str,
    mef_code: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = person_mefstat4, treat_none_as_default_value = false)]
struct PersonMefStat4Row<'a> {
    person_id: i64,
    uai: &'a str,
    code: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = pupil_subjects, treat_none_as_default_value = false)]
struct PupilSubjectRow<'a> {
    person_id: i64,
    uai: &'a str,
    subject_code: &'a str,
}

/// Everything that hangs off a person and a school: GARPersonEtab, GARPersonProfils, posts, MEFs, subjects.
fn insert_person_links(
    conn: &mut AnyConnection,
    dir: &Directory,
    ids: &HashMap<String, i64>,
    counts: &mut DirectoryCounts,
) -> QueryResult<()> {
    let (mut schools, mut profiles, mut posts) = (Vec::new(), Vec::new(), Vec::new());
    for person in &dir.persons {
        let person_id = person_id(ids, &person.gar_id, "GARPersonIdentifiant")?;
        schools.extend(person.establishments.iter().map(|uai| PersonEstablishmentRow { person_id, uai: uai.as_str() }));
        profiles.extend(person.profiles.iter().map(|p| PersonProfileRow {
            person_id,
            uai: p.uai.as_str(),
            profile: p.profile.code(),
        }));
        for post in &person.teacher_posts {
            posts.extend(post.codes.iter().map(|code| TeacherPostRow {
                person_id,
                uai: post.uai.as_str(),
                code,
                kind: post.kind.code(),
            }));
        }
    }
    counts.person_establishments = insert_in_batches!(conn, person_establishments::table, schools, 2);
    counts.person_profiles = insert_in_batches!(conn, person_profiles::table, profiles, 3);
    counts.teacher_posts = insert_in_batches!(conn, teacher_posts::table, posts, 4);

    let rows = dir
        .person_mefs
        .iter()
        .map(|m| {
            let person_id = person_id(ids, &m.gar_id, "GARPersonMEF")?;
            Ok(PersonMefRow { person_id, uai: m.uai.as_str(), mef_code: &m.mef_code })
        })
        .collect::<QueryResult<Vec<_>>>()?;
    counts.person_mefs = insert_in_batches!(conn, person_mefs::table, rows, 3);

    let rows = dir
        .person_mefstat4
        .iter()
        .map(|m| {
            let person_id = person_id(ids, &m.gar_id, "GARPersonMEFSTAT4")?;
            Ok(PersonMefStat4Row { person_id, uai: m.uai.as_str(), code: &m.code })
        })
        .collect::<QueryResult<Vec<_>>>()?;
    counts.person_mefstat4 = insert_in_batches!(conn, person_mefstat4::table, rows, 3);

    let rows = dir
        .pupil_subjects
        .iter()
        .map(|s| {
            let person_id = person_id(ids, &s.gar_id, "GAREleveEnseignement")?;
            Ok(PupilSubjectRow { person_id, uai: s.uai.as_str(), subject_code: &s.subject_code })
        })
        .collect::<QueryResult<Vec<_>>>()?;
    counts.pupil_subjects = insert_in_batches!(conn, pupil_subjects::table, rows, 3);
    Ok(())
}

#[derive(Insertable)]
#[diesel(table_name = school_groups, treat_none_as_default_value = false)]
struct GroupRow<'a> {
    uai: &'a str,
    code: &'a str,
    label: &'a str,
    status: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = group_divisions, treat_none_as_default_value = false)]
struct GroupDivisionRow<'a> {
    group_id: i64,
    division_code: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = person_groups, treat_none_as_default_value = false)]
struct PersonGroupRow {
    person_id: i64,
    group_id: i64,
}

#[derive(Insertable)]
#[diesel(table_name = teacher_group_subjects, treat_none_as_default_value = false)]
struct TeacherGroupSubjectRow<'a> {
    person_id: i64,
    group_id: i64,
    subject_code: &'a str,
}

/// UAI → GARGroupeCode → `school_groups.id`, nested so lookups borrow instead of allocating.
type GroupIds = HashMap<String, HashMap<String, i64>>;

fn group_ids(conn: &mut AnyConnection, ent_id: &str) -> QueryResult<GroupIds> {
    let schools = establishments::table.filter(establishments::ent_id.eq(ent_id)).select(establishments::uai);
    let rows: Vec<(String, String, i64)> = school_groups::table
        .filter(school_groups::uai.eq_any(schools))
        .select((school_groups::uai, school_groups::code, school_groups::id))
        .load(conn)?;
    let mut ids = GroupIds::new();
    for (uai, code, id) in rows {
        ids.entry(uai).or_default().insert(code, id);
    }
    Ok(ids)
}

fn group_id(ids: &GroupIds, uai: &str, code: &str, element: &str) -> QueryResult<i64> {
    ids.get(uai)
        .and_then(|codes| codes.get(code))
        .copied()
        .ok_or_else(|| unknown(format!("{element} names unknown group `{code}` of {uai}")))
}

/// GARGroupe and what refers to groups: GARGroupeDivAppartenance, GARPersonGroupe, GAREns…Matiere.
fn insert_groups(
    conn: &mut AnyConnection,
    dir: &Directory,
    person_ids: &HashMap<String, i64>,
    counts: &mut DirectoryCounts,
) -> QueryResult<()> {
    let rows: Vec<_> = dir
        .groups
        .iter()
        .map(|g| GroupRow { uai: g.uai.as_str(), code: &g.code, label: &g.label, status: g.status.code() })
        .collect();
    counts.groups = insert_in_batches!(conn, school_groups::table, rows, 4);
    let ids = group_ids(conn, &dir.ent_id)?;

    let mut divisions = Vec::new();
    for group in &dir.groups {
        let group_id = group_id(&ids, group.uai.as_str(), &group.code, "GARGroupe")?;
        divisions.extend(group.divisions.iter().map(|code| GroupDivisionRow { group_id, division_code: code }));
    }
    counts.group_divisions = insert_in_batches!(conn, group_divisions::table, divisions, 2);

    let rows = dir
        .person_groups
        .iter()
        .map(|m| {
            Ok(PersonGroupRow {
                person_id: person_id(person_ids, &m.gar_id, "GARPersonGroupe")?,
                group_id: group_id(&ids, m.uai.as_str(), &m.group_code, "GARPersonGroupe")?,
            })
        })
        .collect::<QueryResult<Vec<_>>>()?;
    counts.person_groups = insert_in_batches!(conn, person_groups::table, rows, 2);

    let mut rows = Vec::new();
    let taught = dir.class_subjects.iter().map(|t| (t, "GAREnsClasseMatiere"));
    for (teaching, element) in taught.chain(dir.group_subjects.iter().map(|t| (t, "GAREnsGroupeMatiere"))) {
        let TeacherGroupSubject { uai, gar_id, group_code, subject_codes } = teaching;
        let person_id = person_id(person_ids, gar_id, element)?;
        let group_id = group_id(&ids, uai.as_str(), group_code, element)?;
        rows.extend(subject_codes.iter().map(|code| TeacherGroupSubjectRow {
            person_id,
            group_id,
            subject_code: code,
        }));
    }
    counts.teacher_group_subjects = insert_in_batches!(conn, teacher_group_subjects::table, rows, 3);
    Ok(())
}

#[derive(Insertable)]
#[diesel(table_name = assignment_managers, treat_none_as_default_value = false)]
struct ManagerRow<'a> {
    ent_id: &'a str,
    gar_id: &'a str,
    last_name: &'a str,
    first_name: &'a str,
    civility: Option<&'a str>,
    mails: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = assignment_manager_establishments, treat_none_as_default_value = false)]
struct ManagerEstablishmentRow<'a> {
    manager_id: i64,
    uai: &'a str,
}

/// GARRespAff with its GARRespAffEtab.
fn insert_managers(
    conn: &mut AnyConnection,
    dir: &Directory,
    now: NaiveDateTime,
    counts: &mut DirectoryCounts,
) -> QueryResult<()> {
    let rows: Vec<_> = dir
        .assignment_managers
        .iter()
        .map(|m| ManagerRow {
            ent_id: &dir.ent_id,
            gar_id: &m.gar_id,
            last_name: &m.last_name,
            first_name: &m.first_name,
            civility: m.civility.as_deref(),
            mails: json_list(&m.mails),
            created_at: now,
            updated_at: now,
        })
        .collect();
    counts.assignment_managers = insert_in_batches!(conn, assignment_managers::table, rows, 8);

    let ids: HashMap<String, i64> = assignment_managers::table
        .filter(assignment_managers::ent_id.eq(&dir.ent_id))
        .select((assignment_managers::gar_id, assignment_managers::id))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    let mut rows = Vec::new();
    for manager in &dir.assignment_managers {
        let manager_id = ids
            .get(&manager.gar_id)
            .copied()
            .ok_or_else(|| unknown(format!("GARRespAff `{}` was not stored", manager.gar_id)))?;
        rows.extend(manager.establishments.iter().map(|uai| ManagerEstablishmentRow { manager_id, uai: uai.as_str() }));
    }
    counts.assignment_manager_establishments =
        insert_in_batches!(conn, assignment_manager_establishments::table, rows, 2);
    Ok(())
}

#[cfg(test)]
mod tests {
    use diesel::sqlite::Sqlite;

    use super::*;
    use crate::store::schema::licence_pools;

    /// SQLite only takes many rows in one statement when no value is `DEFAULT`: a row type that
    /// lost `treat_none_as_default_value = false` would silently fall back to one statement per row.
    #[test]
    fn rows_go_in_one_statement_on_sqlite() {
        let now = Utc::now().naive_utc();
        let row = |gar_id, birth_name| PersonRow {
            ent_id: "Z0",
            gar_id,
            source: "ELEVE",
            secondary_id: None,
            birth_name,
            last_name: "DUPONT",
            first_name: "Léa",
            other_first_names: json_list(&["Léa".to_owned()]),
            civility: None,
            attachment_uai: None,
            birth_date: None,
            mails: "[]".into(),
            created_at: now,
            updated_at: now,
        };
        let rows = vec![row("u-1", None), row("u-2", Some("MARTIN"))];
        let sql = diesel::debug_query::<Sqlite, _>(&diesel::insert_into(persons::table).values(&rows)).to_string();
        assert_eq!(sql.matches("INSERT").count(), 1, "{sql}");
        assert!(sql.contains("`birth_name`"), "None is bound as NULL, not left out: {sql}");

        let links = vec![PersonGroupRow { person_id: 1, group_id: 2 }, PersonGroupRow { person_id: 3, group_id: 2 }];
        let sql =
            diesel::debug_query::<Sqlite, _>(&diesel::insert_into(person_groups::table).values(&links)).to_string();
        assert_eq!(sql.matches("INSERT").count(), 1, "{sql}");

        // Tuples of `column.eq(value)` are never DEFAULT either.
        let pools: Vec<_> = [1i64, 2]
            .iter()
            .map(|id| (licence_pools::subscription_id.eq(*id), licence_pools::total.eq(None::<i64>)))
            .collect();
        let sql =
            diesel::debug_query::<Sqlite, _>(&diesel::insert_into(licence_pools::table).values(&pools)).to_string();
        assert_eq!(sql.matches("INSERT").count(), 1, "{sql}");
    }
}
