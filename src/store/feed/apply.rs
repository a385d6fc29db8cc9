//! Applying a checked, staged export to the directory, set-based, inside the caller's write
//! transaction.
//!
//! Scope: the establishments of the export (its GAREtab). Inside it the export is the complete
//! truth: records are created or updated in place (row ids stay stable: licence seats point at
//! persons), and what the export no longer holds is removed, except what a refused record names.
//! Persons are never deleted: one no longer attached anywhere gets `removed_at` (purged later by
//! retention), and gets it cleared when they come back.
//!
//! The import's ENT project is read as the constant subquery `(SELECT ent_id FROM
//! feed_stage_context)` wherever persons or managers are looked up: joined with the context table
//! instead, SQLite may scan `persons` once per row.
//!
//! Persons whose digest (a sum of hashes of their record and of every link naming them) equals the
//! one stored at the last import are left alone, which is what makes re-importing an unchanged
//! export cheap: only changed, new, returning and departed persons are rewritten.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use serde::Serialize;

use super::context::count;
use crate::store::{AnyConnection, StoreError};

/// Created, updated, unchanged and removed records of one entity type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Tally {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub removed: u64,
}

/// Tallies per entity type, named as in the report.
pub type Counts = Vec<(&'static str, Tally)>;

/// What an apply changed.
#[derive(Clone, Debug, Default)]
pub struct Applied {
    pub counts: Counts,
    /// Establishments where a record was created, updated or removed: where the licence ledger
    /// must look again (pupils joining or leaving classes…). A superset is fine, a miss is not.
    pub affected_uais: Vec<String>,
}

/// An establishment the export would empty beyond the allowed share.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct LargeDeletion {
    pub uai: String,
    /// Persons attached to it now.
    pub persons: u64,
    /// Of those, persons the export no longer attaches to it.
    pub detached: u64,
}

#[derive(QueryableByName)]
struct DeletionRow {
    #[diesel(sql_type = Text)]
    uai: String,
    #[diesel(sql_type = BigInt)]
    persons: i64,
    #[diesel(sql_type = BigInt)]
    detached: i64,
}

/// Establishments of the export whose share of detached persons is above `share` (and which have
/// at least `min_persons`). Runs before anything is applied.
pub fn large_deletions(
    conn: &mut AnyConnection,
    share: f64,
    min_persons: u32,
) -> Result<Vec<LargeDeletion>, StoreError> {
    let rows: Vec<DeletionRow> = diesel::sql_query(
        "SELECT pe.uai AS uai, COUNT(*) AS persons, \
         CAST(SUM(CASE WHEN NOT EXISTS (SELECT 1 FROM feed_stage_person_establishments s \
                                        WHERE s.gar_id = p.gar_id AND s.uai = pe.uai) \
                        AND NOT EXISTS (SELECT 1 FROM feed_stage_rejected r WHERE r.kind = 'person' AND r.k1 = p.gar_id) \
                   THEN 1 ELSE 0 END) AS BIGINT) AS detached \
         FROM person_establishments pe JOIN persons p ON p.id = pe.person_id \
         WHERE p.ent_id = (SELECT ent_id FROM feed_stage_context) AND pe.uai IN (SELECT uai FROM feed_stage_establishments) \
         GROUP BY pe.uai ORDER BY pe.uai",
    )
    .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|r| r.persons >= i64::from(min_persons) && r.detached as f64 > share * r.persons as f64)
        .map(|r| LargeDeletion { uai: r.uai, persons: r.persons as u64, detached: r.detached as u64 })
        .collect())
}

/// Runs one statement; at debug level, logs how long it took (statements carry no values).
fn run(conn: &mut AnyConnection, sql: &str) -> Result<u64, StoreError> {
    let started = std::time::Instant::now();
    let rows = diesel::sql_query(sql).execute(conn)? as u64;
    tracing::debug!(ms = started.elapsed().as_millis() as u64, rows, sql = %sql.split_whitespace().collect::<Vec<_>>().join(" "), "feed apply statement");
    Ok(rows)
}

/// Adds the establishments `select` returns (one `uai` column) to the affected set.
fn affect(conn: &mut AnyConnection, select: &str) -> Result<(), StoreError> {
    run(
        conn,
        &format!(
            "INSERT INTO feed_stage_affected (uai) SELECT DISTINCT uai FROM ({select}) AS a WHERE true ON CONFLICT DO NOTHING"
        ),
    )?;
    Ok(())
}

/// In-scope rows of a link table, by uai or by group (groups of refused GARGroupe excluded).
const UAI_SCOPE: &str = "{r}.uai IN (SELECT uai FROM feed_stage_scope)";
const GROUP_SCOPE: &str = "{r}.group_id IN (SELECT id FROM feed_stage_scope_groups)";

/// A directory table holding links of persons, and the staged items that feed it.
struct Link {
    table: &'static str,
    name: &'static str,
    columns: &'static str,
    scope: &'static str,
    /// (staged table, kind in `feed_stage_keep`, values selected from `s`, `ch` and `g`).
    sources: &'static [(&'static str, &'static str, &'static str)],
    /// How a kept item `k` matches a row `{r}` of the table.
    same: &'static str,
}

const LINKS: [Link; 8] = [
    Link {
        table: "person_establishments",
        name: "personEstablishments",
        columns: "person_id, uai",
        scope: UAI_SCOPE,
        sources: &[("feed_stage_person_establishments", "E", "ch.person_id, s.uai")],
        same: "k.uai = {r}.uai",
    },
    Link {
        table: "person_profiles",
        name: "profiles",
        columns: "person_id, uai, profile",
        scope: UAI_SCOPE,
        sources: &[("feed_stage_person_profiles", "P", "ch.person_id, s.uai, s.a")],
        same: "k.uai = {r}.uai AND k.a = {r}.profile",
    },
    Link {
        table: "teacher_posts",
        name: "teacherPosts",
        columns: "person_id, uai, code, kind",
        scope: UAI_SCOPE,
        sources: &[("feed_stage_teacher_posts", "T", "ch.person_id, s.uai, s.a, s.b")],
        same: "k.uai = {r}.uai AND k.a = {r}.code AND k.b = {r}.kind",
    },
    Link {
        table: "person_mefs",
        name: "personMefs",
        columns: "person_id, uai, mef_code",
        scope: UAI_SCOPE,
        sources: &[("feed_stage_person_mefs", "M", "ch.person_id, s.uai, s.a")],
        same: "k.uai = {r}.uai AND k.a = {r}.mef_code",
    },
    Link {
        table: "person_mefstat4",
        name: "personMefstat4",
        columns: "person_id, uai, code",
        scope: UAI_SCOPE,
        sources: &[("feed_stage_person_mefstat4", "4", "ch.person_id, s.uai, s.a")],
        same: "k.uai = {r}.uai AND k.a = {r}.code",
    },
    Link {
        table: "pupil_subjects",
        name: "pupilSubjects",
        columns: "person_id, uai, subject_code",
        scope: UAI_SCOPE,
        sources: &[("feed_stage_pupil_subjects", "S", "ch.person_id, s.uai, s.a")],
        same: "k.uai = {r}.uai AND k.a = {r}.subject_code",
    },
    Link {
        table: "person_groups",
        name: "memberships",
        columns: "person_id, group_id",
        scope: GROUP_SCOPE,
        sources: &[("feed_stage_person_groups", "G", "ch.person_id, g.id")],
        same: "k.group_id = {r}.group_id",
    },
    Link {
        table: "teacher_group_subjects",
        name: "teachingAssignments",
        columns: "person_id, group_id, subject_code",
        scope: GROUP_SCOPE,
        sources: &[
            ("feed_stage_class_subjects", "C", "ch.person_id, g.id, s.b"),
            ("feed_stage_group_subjects", "R", "ch.person_id, g.id, s.b"),
        ],
        same: "k.group_id = {r}.group_id AND k.b = {r}.subject_code",
    },
];

/// Applies the staged export. Call inside a write transaction, after `check::run`.
pub fn apply(conn: &mut AnyConnection) -> Result<Applied, StoreError> {
    for table in [
        "feed_stage_scope",
        "feed_stage_scope_groups",
        "feed_stage_affected",
        "feed_stage_digests",
        "feed_stage_changed",
        "feed_stage_keep",
        "feed_stage_gone",
    ] {
        run(conn, &format!("DROP TABLE IF EXISTS {table}"))?;
    }
    run(conn, "CREATE TEMP TABLE feed_stage_scope (uai TEXT PRIMARY KEY)")?;
    run(conn, "INSERT INTO feed_stage_scope (uai) SELECT uai FROM feed_stage_establishments")?;
    run(conn, "CREATE TEMP TABLE feed_stage_affected (uai TEXT PRIMARY KEY)")?;

    let mut counts = Counts::new();
    counts.push(("establishments", establishments(conn)?));
    counts.push(("mefs", structure(conn, "mefs", "feed_stage_mefs", &["label", "attachment", "stat11"])?));
    counts.push(("subjects", structure(conn, "subjects", "feed_stage_subjects", &["label"])?));
    let (groups_tally, divisions_tally) = groups(conn)?;
    counts.push(("groups", groups_tally));
    counts.push(("groupDivisions", divisions_tally));
    let (pupils, staff, links) = persons(conn)?;
    counts.push(("pupils", pupils));
    counts.push(("staff", staff));
    counts.extend(links);
    let (managers, manager_links) = managers(conn)?;
    counts.push(("assignmentManagers", managers));
    counts.push(("managerEstablishments", manager_links));
    remove_absent_groups(conn, &mut counts)?;
    remove_absent_structure(conn, &mut counts)?;

    #[derive(QueryableByName)]
    struct Uai {
        #[diesel(sql_type = Text)]
        uai: String,
    }
    let affected: Vec<Uai> = diesel::sql_query("SELECT uai FROM feed_stage_affected ORDER BY uai").load(conn)?;
    Ok(Applied { counts, affected_uais: affected.into_iter().map(|u| u.uai).collect() })
}

fn tally_mut<'a>(counts: &'a mut Counts, name: &str) -> &'a mut Tally {
    let index = counts.iter().position(|(n, _)| *n == name).expect("every tally is pushed before removals");
    &mut counts[index].1
}

/// `a IS DISTINCT FROM b OR …` for the columns, between `x` (directory) and `s` (staged).
fn differs(columns: &[&str]) -> String {
    columns.iter().map(|c| format!("x.{c} IS DISTINCT FROM s.{c}")).collect::<Vec<_>>().join(" OR ")
}

fn establishments(conn: &mut AnyConnection) -> Result<Tally, StoreError> {
    let columns = ["name", "functional_attachment", "contract", "phone", "email"];
    let changed = format!("{} OR x.degree <> c.degree", differs(&columns));
    affect(
        conn,
        &format!(
            "SELECT s.uai AS uai FROM feed_stage_establishments s CROSS JOIN feed_stage_context c \
             LEFT JOIN establishments x ON x.uai = s.uai WHERE x.uai IS NULL OR {changed}"
        ),
    )?;
    let updated = run(
        conn,
        &format!(
            "UPDATE establishments SET name = s.name, functional_attachment = s.functional_attachment, \
             contract = s.contract, phone = s.phone, email = s.email, degree = c.degree, updated_at = c.now \
             FROM feed_stage_establishments s, feed_stage_context c \
             WHERE establishments.uai = s.uai AND ({})",
            changed.replace("x.", "establishments.")
        ),
    )?;
    let created = run(
        conn,
        "INSERT INTO establishments (uai, ent_id, name, degree, contract, phone, email, functional_attachment, \
         created_at, updated_at) \
         SELECT s.uai, c.ent_id, s.name, c.degree, s.contract, s.phone, s.email, s.functional_attachment, c.now, c.now \
         FROM feed_stage_establishments s CROSS JOIN feed_stage_context c \
         WHERE NOT EXISTS (SELECT 1 FROM establishments x WHERE x.uai = s.uai)",
    )?;
    let staged = count(conn, "SELECT COUNT(*) AS n FROM feed_stage_establishments")?;
    Ok(Tally { created, updated, unchanged: staged.saturating_sub(created + updated), removed: 0 })
}

/// MEFs and subjects: keyed by (uai, code); removals happen last (`remove_absent_structure`).
fn structure(conn: &mut AnyConnection, table: &str, staged: &str, columns: &[&str]) -> Result<Tally, StoreError> {
    let changed = differs(columns);
    affect(
        conn,
        &format!(
            "SELECT s.uai AS uai FROM {staged} s LEFT JOIN {table} x ON x.uai = s.uai AND x.code = s.code \
             WHERE x.code IS NULL OR {changed}"
        ),
    )?;
    let set = columns.iter().map(|c| format!("{c} = s.{c}")).collect::<Vec<_>>().join(", ");
    let updated = run(
        conn,
        &format!(
            "UPDATE {table} SET {set} FROM {staged} s WHERE {table}.uai = s.uai AND {table}.code = s.code AND ({})",
            changed.replace("x.", &format!("{table}."))
        ),
    )?;
    let list = columns.join(", ");
    let values = columns.iter().map(|c| format!("s.{c}")).collect::<Vec<_>>().join(", ");
    let created = run(
        conn,
        &format!(
            "INSERT INTO {table} (uai, code, {list}) SELECT s.uai, s.code, {values} FROM {staged} s \
             WHERE NOT EXISTS (SELECT 1 FROM {table} x WHERE x.uai = s.uai AND x.code = s.code)"
        ),
    )?;
    let total = count(conn, &format!("SELECT COUNT(*) AS n FROM {staged}"))?;
    Ok(Tally { created, updated, unchanged: total.saturating_sub(created + updated), removed: 0 })
}

fn groups(conn: &mut AnyConnection) -> Result<(Tally, Tally), StoreError> {
    affect(
        conn,
        "SELECT s.uai AS uai FROM feed_stage_groups s LEFT JOIN school_groups x ON x.uai = s.uai AND x.code = s.code \
         WHERE x.id IS NULL OR x.label <> s.label OR x.status <> s.status",
    )?;
    let updated = run(
        conn,
        "UPDATE school_groups SET label = s.label, status = s.status FROM feed_stage_groups s \
         WHERE school_groups.uai = s.uai AND school_groups.code = s.code \
         AND (school_groups.label <> s.label OR school_groups.status <> s.status)",
    )?;
    let created = run(
        conn,
        "INSERT INTO school_groups (uai, code, label, status) SELECT s.uai, s.code, s.label, s.status \
         FROM feed_stage_groups s \
         WHERE NOT EXISTS (SELECT 1 FROM school_groups x WHERE x.uai = s.uai AND x.code = s.code)",
    )?;
    let total = count(conn, "SELECT COUNT(*) AS n FROM feed_stage_groups")?;
    let groups = Tally { created, updated, unchanged: total.saturating_sub(created + updated), removed: 0 };

    // Groups the links may touch: the export's establishments' groups, refused GARGroupe excepted.
    run(conn, "CREATE TEMP TABLE feed_stage_scope_groups (id BIGINT PRIMARY KEY)")?;
    run(
        conn,
        "INSERT INTO feed_stage_scope_groups (id) SELECT g.id FROM school_groups g \
         WHERE g.uai IN (SELECT uai FROM feed_stage_scope) AND NOT EXISTS (SELECT 1 FROM feed_stage_rejected r \
         WHERE r.kind = 'group' AND r.k1 = g.uai AND r.k2 = g.code)",
    )?;

    let stale = "group_divisions.group_id IN (SELECT id FROM feed_stage_scope_groups) AND NOT EXISTS \
         (SELECT 1 FROM feed_stage_group_divisions s JOIN school_groups g ON g.uai = s.uai AND g.code = s.code \
          WHERE g.id = group_divisions.group_id AND s.division = group_divisions.division_code)";
    affect(
        conn,
        &format!(
            "SELECT g.uai AS uai FROM group_divisions JOIN school_groups g ON g.id = group_divisions.group_id WHERE {stale}"
        ),
    )?;
    let removed = run(conn, &format!("DELETE FROM group_divisions WHERE {stale}"))?;
    let fresh = "FROM feed_stage_group_divisions s JOIN school_groups g ON g.uai = s.uai AND g.code = s.code \
         WHERE NOT EXISTS (SELECT 1 FROM group_divisions x WHERE x.group_id = g.id AND x.division_code = s.division)";
    affect(conn, &format!("SELECT s.uai AS uai {fresh}"))?;
    let created = run(
        conn,
        &format!("INSERT INTO group_divisions (group_id, division_code) SELECT DISTINCT g.id, s.division {fresh}"),
    )?;
    let total = count(
        conn,
        "SELECT COUNT(*) AS n FROM group_divisions WHERE group_id IN (SELECT id FROM feed_stage_scope_groups)",
    )?;
    let divisions = Tally { created, updated: 0, unchanged: total.saturating_sub(created), removed };
    Ok((groups, divisions))
}

/// Persons and every link naming them. Returns the pupils' and staff's tallies and the links'.
fn persons(conn: &mut AnyConnection) -> Result<(Tally, Tally, Counts), StoreError> {
    // Digest of each exported person: their record and every link of the export naming them.
    run(conn, "CREATE TEMP TABLE feed_stage_digests (gar_id TEXT PRIMARY KEY, digest BIGINT NOT NULL)")?;
    let items = super::stage::PERSON_ITEMS
        .iter()
        .map(|(table, _)| format!("SELECT gar_id, h1, h2 FROM {table}"))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    run(
        conn,
        &format!(
            "INSERT INTO feed_stage_digests (gar_id, digest) \
             SELECT gar_id, CAST((SUM(h1) % 2147483647) * 2147483648 + (SUM(h2) % 2147483647) AS BIGINT) \
             FROM (SELECT gar_id, h1, h2 FROM feed_stage_persons UNION ALL {items}) AS items \
             WHERE gar_id IN (SELECT gar_id FROM feed_stage_persons) GROUP BY gar_id"
        ),
    )?;

    // New persons, returning ones, and those whose digest moved.
    run(conn, "CREATE TEMP TABLE feed_stage_changed (gar_id TEXT PRIMARY KEY, person_id BIGINT, state TEXT NOT NULL)")?;
    run(
        conn,
        "INSERT INTO feed_stage_changed (gar_id, person_id, state) \
         SELECT d.gar_id, p.id, CASE WHEN p.id IS NULL THEN 'NEW' WHEN p.removed_at IS NOT NULL THEN 'BACK' \
                                     ELSE 'CHANGED' END \
         FROM feed_stage_digests d \
         LEFT JOIN persons p ON p.ent_id = (SELECT ent_id FROM feed_stage_context) AND p.gar_id = d.gar_id \
         LEFT JOIN person_feed_digests f ON f.person_id = p.id \
         WHERE p.id IS NULL OR p.removed_at IS NOT NULL OR f.digest IS NULL OR f.digest <> d.digest",
    )?;
    run(
        conn,
        "INSERT INTO persons (ent_id, gar_id, source, secondary_id, birth_name, last_name, first_name, \
         other_first_names, civility, attachment_uai, birth_date, mails, created_at, updated_at) \
         SELECT c.ent_id, s.gar_id, s.source, s.secondary_id, s.birth_name, s.last_name, s.first_name, \
         s.other_first_names, s.civility, s.attachment_uai, s.birth_date, s.mails, c.now, c.now \
         FROM feed_stage_persons s JOIN feed_stage_changed ch ON ch.gar_id = s.gar_id CROSS JOIN feed_stage_context c \
         WHERE ch.state = 'NEW'",
    )?;
    run(
        conn,
        "UPDATE feed_stage_changed SET person_id = (SELECT p.id FROM persons p \
         WHERE p.ent_id = (SELECT ent_id FROM feed_stage_context) AND p.gar_id = feed_stage_changed.gar_id) \
         WHERE person_id IS NULL",
    )?;
    run(conn, "CREATE INDEX feed_stage_changed_person ON feed_stage_changed (person_id)")?;
    run(
        conn,
        "UPDATE persons SET source = s.source, secondary_id = s.secondary_id, birth_name = s.birth_name, \
         last_name = s.last_name, first_name = s.first_name, other_first_names = s.other_first_names, \
         civility = s.civility, attachment_uai = s.attachment_uai, birth_date = s.birth_date, mails = s.mails, \
         updated_at = c.now, removed_at = NULL \
         FROM feed_stage_persons s, feed_stage_changed ch, feed_stage_context c \
         WHERE persons.id = ch.person_id AND ch.state <> 'NEW' AND s.gar_id = ch.gar_id",
    )?;
    run(conn, "DELETE FROM person_feed_digests WHERE person_id IN (SELECT person_id FROM feed_stage_changed)")?;
    run(
        conn,
        "INSERT INTO person_feed_digests (person_id, digest) SELECT ch.person_id, d.digest \
         FROM feed_stage_changed ch JOIN feed_stage_digests d ON d.gar_id = ch.gar_id",
    )?;

    // Persons of these establishments the export no longer holds (refused records excepted).
    run(conn, "CREATE TEMP TABLE feed_stage_gone (person_id BIGINT PRIMARY KEY, source TEXT NOT NULL)")?;
    run(
        conn,
        "INSERT INTO feed_stage_gone (person_id, source) SELECT p.id, p.source FROM persons p \
         WHERE p.ent_id = (SELECT ent_id FROM feed_stage_context) \
         AND EXISTS (SELECT 1 FROM person_establishments pe WHERE pe.person_id = p.id \
                     AND pe.uai IN (SELECT uai FROM feed_stage_scope)) \
         AND NOT EXISTS (SELECT 1 FROM feed_stage_digests d WHERE d.gar_id = p.gar_id) \
         AND NOT EXISTS (SELECT 1 FROM feed_stage_rejected r WHERE r.kind = 'person' AND r.k1 = p.gar_id)",
    )?;

    // Where anything about a changed or departed person lies, before it moves.
    affect(
        conn,
        "SELECT s.uai AS uai FROM feed_stage_person_establishments s JOIN feed_stage_changed ch ON ch.gar_id = s.gar_id",
    )?;
    affect(
        conn,
        "SELECT pe.uai AS uai FROM person_establishments pe \
         WHERE pe.uai IN (SELECT uai FROM feed_stage_scope) \
         AND (pe.person_id IN (SELECT person_id FROM feed_stage_changed) \
              OR pe.person_id IN (SELECT person_id FROM feed_stage_gone))",
    )?;

    // What changed persons keep of their links, to remove only the others.
    run(
        conn,
        "CREATE TEMP TABLE feed_stage_keep (kind TEXT NOT NULL, person_id BIGINT NOT NULL, uai TEXT NOT NULL, \
         a TEXT NOT NULL, b TEXT NOT NULL, group_id BIGINT)",
    )?;
    for link in &LINKS {
        for (staged, kind, _) in link.sources {
            let group = match link.scope {
                GROUP_SCOPE => "(SELECT g.id FROM school_groups g WHERE g.uai = s.uai AND g.code = s.a)",
                _ => "NULL",
            };
            run(
                conn,
                &format!(
                    "INSERT INTO feed_stage_keep (kind, person_id, uai, a, b, group_id) \
                     SELECT '{kind}', ch.person_id, s.uai, s.a, s.b, {group} FROM {staged} s \
                     JOIN feed_stage_changed ch ON ch.gar_id = s.gar_id WHERE ch.state <> 'NEW'"
                ),
            )?;
        }
    }
    run(conn, "CREATE INDEX feed_stage_keep_person ON feed_stage_keep (person_id, kind)")?;

    let mut links = Counts::new();
    for link in &LINKS {
        let table = link.table;
        let scope = link.scope.replace("{r}", table);
        let kinds = link.sources.iter().map(|(_, k, _)| format!("'{k}'")).collect::<Vec<_>>().join(", ");
        let removed = run(
            conn,
            &format!(
                "DELETE FROM {table} WHERE {scope} AND (\
                   person_id IN (SELECT person_id FROM feed_stage_gone) \
                   OR (person_id IN (SELECT person_id FROM feed_stage_changed WHERE state <> 'NEW') \
                       AND NOT EXISTS (SELECT 1 FROM feed_stage_keep k WHERE k.person_id = {table}.person_id \
                                       AND k.kind IN ({kinds}) AND {})))",
                link.same.replace("{r}", table)
            ),
        )?;
        let mut created = 0;
        for (staged, _, values) in link.sources {
            let group_join = match link.scope {
                GROUP_SCOPE => "JOIN school_groups g ON g.uai = s.uai AND g.code = s.a",
                _ => "",
            };
            created += run(
                conn,
                &format!(
                    "INSERT INTO {table} ({}) SELECT {values} FROM {staged} s \
                     JOIN feed_stage_changed ch ON ch.gar_id = s.gar_id {group_join} WHERE true ON CONFLICT DO NOTHING",
                    link.columns
                ),
            )?;
        }
        let total = count(conn, &format!("SELECT COUNT(*) AS n FROM {table} WHERE {scope}"))?;
        links.push((link.name, Tally { created, updated: 0, unchanged: total.saturating_sub(created), removed }));
    }

    // Departed persons attached nowhere else leave the directory; the others lose these schools only.
    let mut removed = [0u64; 2];
    for (i, source) in ["ELEVE", "ENSEIGNANT"].iter().enumerate() {
        removed[i] = run(
            conn,
            &format!(
                "UPDATE persons SET removed_at = (SELECT now FROM feed_stage_context), \
                 updated_at = (SELECT now FROM feed_stage_context) \
                 WHERE id IN (SELECT person_id FROM feed_stage_gone WHERE source = '{source}') \
                 AND NOT EXISTS (SELECT 1 FROM person_establishments pe WHERE pe.person_id = persons.id)"
            ),
        )?;
    }
    run(conn, "DELETE FROM person_feed_digests WHERE person_id IN (SELECT person_id FROM feed_stage_gone)")?;

    let mut tallies = [Tally::default(); 2];
    for (i, source) in ["ELEVE", "ENSEIGNANT"].iter().enumerate() {
        let staged = count(conn, &format!("SELECT COUNT(*) AS n FROM feed_stage_persons WHERE source = '{source}'"))?;
        let by_state = |state: &str| {
            format!(
                "SELECT COUNT(*) AS n FROM feed_stage_changed ch JOIN feed_stage_persons s ON s.gar_id = ch.gar_id \
                 WHERE s.source = '{source}' AND ch.state IN ({state})"
            )
        };
        let created = count(conn, &by_state("'NEW', 'BACK'"))?;
        let updated = count(conn, &by_state("'CHANGED'"))?;
        let gone = count(conn, &format!("SELECT COUNT(*) AS n FROM feed_stage_gone WHERE source = '{source}'"))?;
        tallies[i] = Tally {
            created,
            updated: updated + gone.saturating_sub(removed[i]),
            unchanged: staged.saturating_sub(created + updated),
            removed: removed[i],
        };
    }
    Ok((tallies[0], tallies[1], links))
}

fn managers(conn: &mut AnyConnection) -> Result<(Tally, Tally), StoreError> {
    let columns = ["last_name", "first_name", "civility", "mails"];
    let changed = differs(&columns);
    affect(
        conn,
        &format!(
            "SELECT me.uai AS uai FROM feed_stage_managers s \
             JOIN feed_stage_manager_establishments me ON me.gar_id = s.gar_id \
             LEFT JOIN assignment_managers x ON x.ent_id = (SELECT ent_id FROM feed_stage_context) AND x.gar_id = s.gar_id \
             WHERE x.id IS NULL OR {changed}"
        ),
    )?;
    let updated = run(
        conn,
        &format!(
            "UPDATE assignment_managers SET last_name = s.last_name, first_name = s.first_name, \
             civility = s.civility, mails = s.mails, updated_at = c.now \
             FROM feed_stage_managers s, feed_stage_context c \
             WHERE assignment_managers.ent_id = (SELECT ent_id FROM feed_stage_context) AND assignment_managers.gar_id = s.gar_id AND ({})",
            changed.replace("x.", "assignment_managers.")
        ),
    )?;
    let created = run(
        conn,
        "INSERT INTO assignment_managers (ent_id, gar_id, last_name, first_name, civility, mails, created_at, updated_at) \
         SELECT c.ent_id, s.gar_id, s.last_name, s.first_name, s.civility, s.mails, c.now, c.now \
         FROM feed_stage_managers s CROSS JOIN feed_stage_context c \
         WHERE NOT EXISTS (SELECT 1 FROM assignment_managers x WHERE x.ent_id = c.ent_id AND x.gar_id = s.gar_id)",
    )?;

    // Links inside the scope follow the export; refused GARRespAff keep theirs.
    let stale = "assignment_manager_establishments.uai IN (SELECT uai FROM feed_stage_scope) \
         AND assignment_manager_establishments.manager_id IN (SELECT m.id FROM assignment_managers m \
             WHERE m.ent_id = (SELECT ent_id FROM feed_stage_context) AND NOT EXISTS (SELECT 1 FROM feed_stage_rejected r \
             WHERE r.kind = 'manager' AND r.k1 = m.gar_id)) \
         AND NOT EXISTS (SELECT 1 FROM feed_stage_manager_establishments s \
             JOIN assignment_managers m2 ON m2.gar_id = s.gar_id \
             WHERE m2.ent_id = (SELECT ent_id FROM feed_stage_context) \
             AND m2.id = assignment_manager_establishments.manager_id AND s.uai = assignment_manager_establishments.uai)";
    affect(conn, &format!("SELECT uai FROM assignment_manager_establishments WHERE {stale}"))?;
    let links_removed = run(conn, &format!("DELETE FROM assignment_manager_establishments WHERE {stale}"))?;
    let fresh = "FROM feed_stage_manager_establishments s \
         JOIN assignment_managers m ON m.ent_id = (SELECT ent_id FROM feed_stage_context) AND m.gar_id = s.gar_id \
         WHERE NOT EXISTS (SELECT 1 FROM assignment_manager_establishments x WHERE x.manager_id = m.id AND x.uai = s.uai)";
    affect(conn, &format!("SELECT s.uai AS uai {fresh}"))?;
    let links_created = run(
        conn,
        &format!("INSERT INTO assignment_manager_establishments (manager_id, uai) SELECT DISTINCT m.id, s.uai {fresh}"),
    )?;
    let removed = run(
        conn,
        "DELETE FROM assignment_managers WHERE ent_id = (SELECT ent_id FROM feed_stage_context) \
         AND NOT EXISTS (SELECT 1 FROM assignment_manager_establishments me WHERE me.manager_id = assignment_managers.id)",
    )?;
    let total = count(conn, "SELECT COUNT(*) AS n FROM feed_stage_managers")?;
    let links_total = count(
        conn,
        "SELECT COUNT(*) AS n FROM assignment_manager_establishments me JOIN assignment_managers m ON m.id = me.manager_id \
         WHERE m.ent_id = (SELECT ent_id FROM feed_stage_context) AND me.uai IN (SELECT uai FROM feed_stage_scope)",
    )?;
    Ok((
        Tally { created, updated, unchanged: total.saturating_sub(created + updated), removed },
        Tally {
            created: links_created,
            updated: 0,
            unchanged: links_total.saturating_sub(links_created),
            removed: links_removed,
        },
    ))
}

/// GARGroupe the export no longer holds, with whatever still points at them.
fn remove_absent_groups(conn: &mut AnyConnection, counts: &mut Counts) -> Result<(), StoreError> {
    let absent = "SELECT g.id FROM school_groups g WHERE g.id IN (SELECT id FROM feed_stage_scope_groups) \
         AND NOT EXISTS (SELECT 1 FROM feed_stage_groups s WHERE s.uai = g.uai AND s.code = g.code)";
    affect(conn, &format!("SELECT g.uai AS uai FROM school_groups g WHERE g.id IN ({absent})"))?;
    tally_mut(counts, "memberships").removed +=
        run(conn, &format!("DELETE FROM person_groups WHERE group_id IN ({absent})"))?;
    tally_mut(counts, "teachingAssignments").removed +=
        run(conn, &format!("DELETE FROM teacher_group_subjects WHERE group_id IN ({absent})"))?;
    tally_mut(counts, "groupDivisions").removed +=
        run(conn, &format!("DELETE FROM group_divisions WHERE group_id IN ({absent})"))?;
    tally_mut(counts, "groups").removed += run(conn, &format!("DELETE FROM school_groups WHERE id IN ({absent})"))?;
    Ok(())
}

/// GARMEF and GARMatiere the export no longer holds (refused records excepted).
fn remove_absent_structure(conn: &mut AnyConnection, counts: &mut Counts) -> Result<(), StoreError> {
    for (table, staged, kind, name) in
        [("mefs", "feed_stage_mefs", "mef", "mefs"), ("subjects", "feed_stage_subjects", "subject", "subjects")]
    {
        let absent = format!(
            "{table}.uai IN (SELECT uai FROM feed_stage_scope) \
             AND NOT EXISTS (SELECT 1 FROM {staged} s WHERE s.uai = {table}.uai AND s.code = {table}.code) \
             AND NOT EXISTS (SELECT 1 FROM feed_stage_rejected r WHERE r.kind = '{kind}' AND r.k1 = {table}.uai \
                             AND r.k2 = {table}.code)"
        );
        affect(conn, &format!("SELECT uai FROM {table} WHERE {absent}"))?;
        tally_mut(counts, name).removed += run(conn, &format!("DELETE FROM {table} WHERE {absent}"))?;
    }
    Ok(())
}
