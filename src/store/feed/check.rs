//! Set-based checks of a staged export, before anything is applied: records repeated with other
//! content (the first occurrence wins), tenant ownership of establishments, and every reference
//! (a membership names a known person of that establishment and a known group, a class subject
//! names a DIVISION…). Offending rows are reported and removed from staging, so that the apply
//! only ever sees a consistent export.
//!
//! A record refused as a whole (here or by the parser) is remembered in `feed_stage_rejected`:
//! what it names is left as it is in the directory, never removed for being "absent".

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};

use super::context;
use crate::store::{AnyConnection, StoreError};

/// A staged row refused by a check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    pub file: i32,
    pub line: i64,
    pub index: i32,
    /// The element of the record, e.g. `GARPersonGroupe`; with `person_part`, a part of a GAREleve
    /// or GAREnseignant record (`GARPersonEtab`), or the person record itself when empty.
    pub element: &'static str,
    pub person_part: bool,
    /// The identifier the report shows: a GARPersonIdentifiant, a UAI, a group code…
    pub id: String,
    pub reason: String,
}

/// What the checks found: refusals (listed up to a limit, all counted) and merged repeats.
#[derive(Debug, Default)]
pub struct Findings {
    pub refused: Vec<Refused>,
    pub refused_total: u64,
    /// Repeats whose content differed from the first occurrence, which was kept.
    pub repeats: Vec<Refused>,
    pub repeats_total: u64,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Integer)]
    file: i32,
    #[diesel(sql_type = BigInt)]
    line: i64,
    #[diesel(sql_type = Integer)]
    idx: i32,
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    detail: String,
}

/// One check: rows of `table` matching `bad` (SQL over the row, written against `{t}`) are refused.
#[derive(Clone, Copy)]
struct Check {
    table: &'static str,
    element: &'static str,
    person_part: bool,
    /// SQL expression for the identifier shown, and one for the value the reason quotes.
    id: &'static str,
    detail: &'static str,
    bad: &'static str,
    reason: fn(&str) -> String,
    /// A key to remember as refused, as (kind, k1 expression, k2 expression).
    remember: Option<(&'static str, &'static str, &'static str)>,
    /// A later check of the same table catches every row this one does (with a vaguer reason):
    /// the table's probe leaves it out.
    implied: bool,
}

/// Checks of links named by person (GARPersonMEF…): known person, in scope, attached there.
/// Attachment implies the other two (refused persons and out-of-scope GARPersonEtab are gone by
/// then), which only give a more precise reason.
fn person_link_checks(table: &'static str, element: &'static str) -> [Check; 4] {
    [
        Check {
            table,
            element,
            person_part: false,
            id: "{t}.gar_id",
            detail: "{t}.gar_id",
            bad: "NOT EXISTS (SELECT 1 FROM feed_stage_persons p WHERE p.gar_id = {t}.gar_id) \
                  AND EXISTS (SELECT 1 FROM feed_stage_rejected r WHERE r.kind = 'person' AND r.k1 = {t}.gar_id)",
            reason: |id| format!("names person `{id}`, whose record was rejected"),
            remember: None,
            implied: true,
        },
        Check {
            table,
            element,
            person_part: false,
            id: "{t}.gar_id",
            detail: "{t}.gar_id",
            bad: "NOT EXISTS (SELECT 1 FROM feed_stage_persons p WHERE p.gar_id = {t}.gar_id)",
            reason: |id| format!("names person `{id}`, who is in no GAREleve or GAREnseignant of this export"),
            remember: None,
            implied: true,
        },
        Check {
            table,
            element,
            person_part: false,
            id: "{t}.gar_id",
            detail: "{t}.uai",
            bad: "NOT EXISTS (SELECT 1 FROM feed_stage_establishments e WHERE e.uai = {t}.uai)",
            reason: |uai| format!("names establishment {uai}, which is not in this export's GAR-ENT-Etab"),
            remember: None,
            implied: true,
        },
        Check {
            table,
            element,
            person_part: false,
            id: "{t}.gar_id",
            detail: "{t}.uai",
            bad: "NOT EXISTS (SELECT 1 FROM feed_stage_person_establishments pe \
                  WHERE pe.gar_id = {t}.gar_id AND pe.uai = {t}.uai)",
            reason: |uai| format!("the person has no GARPersonEtab {uai}"),
            remember: None,
            implied: false,
        },
    ]
}

fn checks() -> Vec<Check> {
    let mut checks = vec![
        // Establishments another ENT project feeds stay out of this export's reach. The reason
        // does not say which project holds it.
        Check {
            table: "feed_stage_establishments",
            element: "GAREtab",
            person_part: false,
            id: "{t}.uai",
            detail: "{t}.uai",
            bad: "EXISTS (SELECT 1 FROM establishments x, feed_stage_context c \
                  WHERE x.uai = {t}.uai AND x.ent_id <> c.ent_id)",
            reason: |uai| format!("establishment {uai} cannot be fed by this ENT project"),
            remember: Some(("establishment", "{t}.uai", "''")),
            implied: false,
        },
    ];
    for (table, element, kind) in [
        ("feed_stage_mefs", "GARMEF", "mef"),
        ("feed_stage_subjects", "GARMatiere", "subject"),
        ("feed_stage_groups", "GARGroupe", "group"),
    ] {
        checks.push(Check {
            table,
            element,
            person_part: false,
            id: "{t}.code",
            detail: "{t}.uai",
            bad: "NOT EXISTS (SELECT 1 FROM feed_stage_establishments e WHERE e.uai = {t}.uai)",
            reason: |uai| format!("names establishment {uai}, which is not in this export's GAR-ENT-Etab"),
            remember: Some((kind, "{t}.uai", "{t}.code")),
            implied: false,
        });
    }
    checks.extend([
        Check {
            table: "feed_stage_group_divisions",
            element: "GARGroupe",
            person_part: false,
            id: "{t}.code",
            detail: "{t}.division",
            bad: "EXISTS (SELECT 1 FROM feed_stage_groups g WHERE g.uai = {t}.uai AND g.code = {t}.code \
                  AND g.status = 'DIVISION')",
            reason: |_| "a DIVISION has no GARGroupeDivAppartenance: only other groups belong to divisions".into(),
            remember: None,
            implied: false,
        },
        Check {
            table: "feed_stage_group_divisions",
            element: "GARGroupe",
            person_part: false,
            id: "{t}.code",
            detail: "{t}.division",
            bad: "NOT EXISTS (SELECT 1 FROM feed_stage_groups g WHERE g.uai = {t}.uai AND g.code = {t}.division \
                  AND g.status = 'DIVISION')",
            reason: |division| format!("GARGroupeDivAppartenance `{division}` is not a DIVISION of this establishment"),
            remember: None,
            implied: false,
        },
        // Parts of person records.
        Check {
            table: "feed_stage_person_establishments",
            element: "GARPersonEtab",
            person_part: true,
            id: "{t}.gar_id",
            detail: "{t}.uai",
            bad: "NOT EXISTS (SELECT 1 FROM feed_stage_establishments e WHERE e.uai = {t}.uai)",
            reason: |uai| format!("names establishment {uai}, which is not in this export's GAR-ENT-Etab"),
            remember: None,
            implied: false,
        },
        Check {
            table: "feed_stage_person_profiles",
            element: "GARPersonProfils",
            person_part: true,
            id: "{t}.gar_id",
            detail: "{t}.uai",
            bad: "NOT EXISTS (SELECT 1 FROM feed_stage_person_establishments pe \
                  WHERE pe.gar_id = {t}.gar_id AND pe.uai = {t}.uai)",
            reason: |uai| format!("a profile in {uai}, which is not one of the person's GARPersonEtab in this export"),
            remember: None,
            implied: false,
        },
        Check {
            table: "feed_stage_teacher_posts",
            element: "GAREnsDisciplinesPostes",
            person_part: true,
            id: "{t}.gar_id",
            detail: "{t}.uai",
            bad: "NOT EXISTS (SELECT 1 FROM feed_stage_person_establishments pe \
                  WHERE pe.gar_id = {t}.gar_id AND pe.uai = {t}.uai)",
            reason: |uai| format!("posts in {uai}, which is not one of the person's GARPersonEtab in this export"),
            remember: None,
            implied: false,
        },
        // A person with no establishment of the export left is refused as a whole.
        Check {
            table: "feed_stage_persons",
            element: "GARPersonEtab",
            person_part: true,
            id: "{t}.gar_id",
            detail: "{t}.gar_id",
            bad: "NOT EXISTS (SELECT 1 FROM feed_stage_person_establishments pe WHERE pe.gar_id = {t}.gar_id)",
            reason: |_| "none of the person's GARPersonEtab is an establishment of this export".into(),
            remember: Some(("person", "{t}.gar_id", "''")),
            implied: false,
        },
        Check {
            table: "feed_stage_persons",
            element: "GARPersonProfils",
            person_part: true,
            id: "{t}.gar_id",
            detail: "{t}.gar_id",
            bad: "NOT EXISTS (SELECT 1 FROM feed_stage_person_profiles pp WHERE pp.gar_id = {t}.gar_id)",
            reason: |_| "none of the person's GARPersonProfils is in an establishment of this export".into(),
            remember: Some(("person", "{t}.gar_id", "''")),
            implied: false,
        },
    ]);
    // What is left of refused persons goes with them.
    for table in ["feed_stage_person_establishments", "feed_stage_person_profiles", "feed_stage_teacher_posts"] {
        checks.push(Check {
            table,
            element: "",
            person_part: true,
            id: "{t}.gar_id",
            detail: "{t}.gar_id",
            bad: "NOT EXISTS (SELECT 1 FROM feed_stage_persons p WHERE p.gar_id = {t}.gar_id)",
            reason: |_| String::new(),
            remember: None,
            implied: false,
        });
    }
    // Links named by person: the person's checks, then what the link refers to.
    let references: [(&str, &str, &[Check]); 6] = [
        (
            "feed_stage_person_mefs",
            "GARPersonMEF",
            &[Check {
                table: "feed_stage_person_mefs",
                element: "GARPersonMEF",
                person_part: false,
                id: "{t}.gar_id",
                detail: "{t}.a",
                bad: "NOT EXISTS (SELECT 1 FROM feed_stage_mefs m WHERE m.uai = {t}.uai AND m.code = {t}.a)",
                reason: |code| format!("names MEF `{code}`, which is not a GARMEF of the establishment"),
                remember: None,
                implied: false,
            }],
        ),
        ("feed_stage_person_mefstat4", "GARPersonMEFSTAT4", &[]),
        (
            "feed_stage_pupil_subjects",
            "GAREleveEnseignement",
            &[Check {
                table: "feed_stage_pupil_subjects",
                element: "GAREleveEnseignement",
                person_part: false,
                id: "{t}.gar_id",
                detail: "{t}.a",
                bad: "NOT EXISTS (SELECT 1 FROM feed_stage_subjects m WHERE m.uai = {t}.uai AND m.code = {t}.a)",
                reason: |code| format!("names subject `{code}`, which is not a GARMatiere of the establishment"),
                remember: None,
                implied: false,
            }],
        ),
        (
            "feed_stage_person_groups",
            "GARPersonGroupe",
            &[Check {
                table: "feed_stage_person_groups",
                element: "GARPersonGroupe",
                person_part: false,
                id: "{t}.gar_id",
                detail: "{t}.a",
                bad: "NOT EXISTS (SELECT 1 FROM feed_stage_groups g WHERE g.uai = {t}.uai AND g.code = {t}.a)",
                reason: |code| format!("names group `{code}`, which is not a GARGroupe of the establishment"),
                remember: None,
                implied: false,
            }],
        ),
        (
            "feed_stage_class_subjects",
            "GAREnsClasseMatiere",
            &[
                Check {
                    table: "feed_stage_class_subjects",
                    element: "GAREnsClasseMatiere",
                    person_part: false,
                    id: "{t}.gar_id",
                    detail: "{t}.a",
                    bad: "NOT EXISTS (SELECT 1 FROM feed_stage_groups g WHERE g.uai = {t}.uai AND g.code = {t}.a \
                          AND g.status = 'DIVISION')",
                    reason: |code| format!("names `{code}`, which is not a DIVISION of the establishment"),
                    remember: None,
                    implied: false,
                },
                Check {
                    table: "feed_stage_class_subjects",
                    element: "GAREnsClasseMatiere",
                    person_part: false,
                    id: "{t}.gar_id",
                    detail: "{t}.b",
                    bad: "NOT EXISTS (SELECT 1 FROM feed_stage_subjects m WHERE m.uai = {t}.uai AND m.code = {t}.b)",
                    reason: |code| format!("names subject `{code}`, which is not a GARMatiere of the establishment"),
                    remember: None,
                    implied: false,
                },
            ],
        ),
        (
            "feed_stage_group_subjects",
            "GAREnsGroupeMatiere",
            &[
                Check {
                    table: "feed_stage_group_subjects",
                    element: "GAREnsGroupeMatiere",
                    person_part: false,
                    id: "{t}.gar_id",
                    detail: "{t}.a",
                    bad: "NOT EXISTS (SELECT 1 FROM feed_stage_groups g WHERE g.uai = {t}.uai AND g.code = {t}.a \
                          AND g.status = 'GROUPE')",
                    reason: |code| format!("names `{code}`, which is not a GROUPE of the establishment"),
                    remember: None,
                    implied: false,
                },
                Check {
                    table: "feed_stage_group_subjects",
                    element: "GAREnsGroupeMatiere",
                    person_part: false,
                    id: "{t}.gar_id",
                    detail: "{t}.b",
                    bad: "NOT EXISTS (SELECT 1 FROM feed_stage_subjects m WHERE m.uai = {t}.uai AND m.code = {t}.b)",
                    reason: |code| format!("names subject `{code}`, which is not a GARMatiere of the establishment"),
                    remember: None,
                    implied: false,
                },
            ],
        ),
    ];
    for (table, element, own) in references {
        checks.extend(person_link_checks(table, element));
        checks.extend(own.iter().map(|c| Check { ..*c }));
    }
    checks.extend([
        Check {
            table: "feed_stage_manager_establishments",
            element: "GARRespAff",
            person_part: false,
            id: "{t}.gar_id",
            detail: "{t}.uai",
            bad: "NOT EXISTS (SELECT 1 FROM feed_stage_establishments e WHERE e.uai = {t}.uai)",
            reason: |uai| format!("GARRespAffEtab {uai} is not in this export's GAR-ENT-Etab"),
            remember: None,
            implied: false,
        },
        Check {
            table: "feed_stage_managers",
            element: "GARRespAff",
            person_part: false,
            id: "{t}.gar_id",
            detail: "{t}.gar_id",
            bad: "NOT EXISTS (SELECT 1 FROM feed_stage_manager_establishments me WHERE me.gar_id = {t}.gar_id)",
            reason: |_| "none of its GARRespAffEtab is an establishment of this export".into(),
            remember: Some(("manager", "{t}.gar_id", "''")),
            implied: false,
        },
    ]);
    checks
}

/// Record tables with their key and element (empty for persons: GAREleve or GAREnseignant, as the
/// file says).
const RECORDS: [(&str, &str, &str); 6] = [
    ("feed_stage_establishments", "uai", "GAREtab"),
    ("feed_stage_mefs", "uai, code", "GARMEF"),
    ("feed_stage_subjects", "uai, code", "GARMatiere"),
    ("feed_stage_groups", "uai, code", "GARGroupe"),
    ("feed_stage_persons", "gar_id", ""),
    ("feed_stage_managers", "gar_id", "GARRespAff"),
];

/// Adds the indexes the checks and the apply need, once the whole export is staged.
pub fn index_tables(conn: &mut AnyConnection) -> Result<(), StoreError> {
    for (table, key, _) in RECORDS {
        diesel::sql_query(format!("CREATE INDEX {table}_key ON {table} ({key}, file, line)")).execute(conn)?;
    }
    for (table, columns) in [
        ("feed_stage_person_establishments", "gar_id, uai"),
        ("feed_stage_person_profiles", "gar_id"),
        ("feed_stage_group_divisions", "uai, code"),
        ("feed_stage_manager_establishments", "gar_id, uai"),
    ] {
        diesel::sql_query(format!("CREATE INDEX {table}_key ON {table} ({columns})")).execute(conn)?;
    }
    Ok(())
}

/// Runs every check; `max_listed` bounds what is kept for the report.
pub fn run(conn: &mut AnyConnection, max_listed: usize) -> Result<Findings, StoreError> {
    let mut findings = Findings::default();
    merge_repeats(conn, max_listed, &mut findings)?;
    let checks = checks();
    // Consecutive checks of one table are probed together first: a clean table costs one scan.
    for group in checks.chunk_by(|a, b| a.table == b.table) {
        let probed = group.iter().filter(|c| !c.implied);
        let any = probed.map(|c| format!("({})", c.bad.replace("{t}", "s"))).collect::<Vec<_>>().join(" OR ");
        let table = group[0].table;
        if !exists(conn, &format!("SELECT 1 FROM {table} s WHERE {any}"))? {
            continue;
        }
        for check in group {
            apply_check(conn, check, max_listed, &mut findings)?;
        }
    }
    Ok(findings)
}

/// Keeps the first occurrence of each record key (by file, then line); lists the repeats whose
/// content differed. The parts of a repeated person (GARPersonEtab…) stay: they are merged.
fn merge_repeats(conn: &mut AnyConnection, max_listed: usize, findings: &mut Findings) -> Result<(), StoreError> {
    for (table, key, element) in RECORDS {
        let same_key = key.split(", ").map(|k| format!("f.{k} = {{t}}.{k}")).collect::<Vec<_>>().join(" AND ");
        let earlier = format!(
            "EXISTS (SELECT 1 FROM {table} f WHERE {same_key} AND (f.file < {{t}}.file \
             OR (f.file = {{t}}.file AND f.line < {{t}}.line)){{differs}})"
        );
        let id = key.split(", ").last().unwrap_or("uai");
        let repeated = earlier.replace("{differs}", "").replace("{t}", "s");
        if !exists(conn, &format!("SELECT 1 FROM {table} s WHERE {repeated}"))? {
            continue;
        }
        let differs = " AND (f.h1 <> {t}.h1 OR f.h2 <> {t}.h2)";
        let listed = max_listed.saturating_sub(findings.repeats.len());
        let select = format!(
            "SELECT s.file AS file, s.line AS line, s.idx AS idx, s.{id} AS id, '' AS detail FROM {table} s \
             WHERE {} LIMIT {listed}",
            earlier.replace("{differs}", differs).replace("{t}", "s")
        );
        let rows: Vec<Row> = diesel::sql_query(select).load(conn)?;
        let count = format!(
            "SELECT COUNT(*) AS n FROM {table} s WHERE {}",
            earlier.replace("{differs}", differs).replace("{t}", "s")
        );
        findings.repeats_total += context::count(conn, &count)?;
        findings.repeats.extend(rows.into_iter().map(|row| Refused {
            file: row.file,
            line: row.line,
            index: row.idx,
            element,
            person_part: element.is_empty(),
            id: row.id,
            reason: "repeats a record of this export with other content; the first occurrence is kept".into(),
        }));
        diesel::sql_query(format!(
            "DELETE FROM {table} WHERE {}",
            earlier.replace("{differs}", "").replace("{t}", table)
        ))
        .execute(conn)?;
    }
    Ok(())
}

/// Whether `select` returns a row.
fn exists(conn: &mut AnyConnection, select: &str) -> Result<bool, StoreError> {
    let started = std::time::Instant::now();
    let found =
        context::count(conn, &format!("SELECT CAST(CASE WHEN EXISTS ({select}) THEN 1 ELSE 0 END AS BIGINT) AS n"))?
            == 1;
    tracing::debug!(ms = started.elapsed().as_millis() as u64, found, "feed check probe");
    Ok(found)
}

fn apply_check(
    conn: &mut AnyConnection,
    check: &Check,
    max_listed: usize,
    findings: &mut Findings,
) -> Result<(), StoreError> {
    let table = check.table;
    let bad_in_select = check.bad.replace("{t}", "s");
    if let Some((kind, k1, k2)) = check.remember {
        diesel::sql_query(format!(
            "INSERT INTO feed_stage_rejected (kind, k1, k2) SELECT '{kind}', {}, {} FROM {table} s WHERE {bad_in_select} \
             ON CONFLICT DO NOTHING",
            k1.replace("{t}", "s"),
            k2.replace("{t}", "s"),
        ))
        .execute(conn)?;
    }
    // Silent checks (empty reason) clean up after refusals already reported.
    let reported = !check.element.is_empty();
    if reported {
        let listed = max_listed.saturating_sub(findings.refused.len());
        let rows: Vec<Row> = diesel::sql_query(format!(
            "SELECT s.file AS file, s.line AS line, s.idx AS idx, {} AS id, {} AS detail FROM {table} s \
             WHERE {bad_in_select} ORDER BY s.file, s.line LIMIT {listed}",
            check.id.replace("{t}", "s"),
            check.detail.replace("{t}", "s"),
        ))
        .load(conn)?;
        findings.refused.extend(rows.into_iter().map(|row| Refused {
            file: row.file,
            line: row.line,
            index: row.idx,
            element: check.element,
            person_part: check.person_part,
            id: row.id,
            reason: (check.reason)(&row.detail),
        }));
    }
    let removed =
        diesel::sql_query(format!("DELETE FROM {table} WHERE {}", check.bad.replace("{t}", table))).execute(conn)?;
    if reported {
        findings.refused_total += removed as u64;
    }
    Ok(())
}
