//! Bulk-loads a distributor with many subscriptions, for the subscription benchmarks
//! (`benches/subscription_search.rs`, `examples/subscriptions_load.rs`). Rows go in multi-row
//! statements: seeding 100,000 subscriptions one API call at a time would take longer than the
//! measurement itself.

use chrono::{NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use sesame::domain::uai::check_letter;
use sesame::store::schema::{
    establishments, licence_pools, subscription_establishments, subscription_publics, subscriptions,
};
use sesame::store::{AnyConnection, partners};

/// The distributor that owns every seeded subscription.
pub const DISTRIBUTOR: &str = "999000101_0000000000000000";

/// Rows per statement, under both backends' bind limits.
const CHUNK: usize = 1000;

macro_rules! insert_chunks {
    ($conn:expr, $table:expr, $rows:expr) => {
        for chunk in $rows.chunks(CHUNK) {
            match &mut *$conn {
                AnyConnection::Sqlite(c) => diesel::insert_into($table).values(chunk).execute(c).unwrap(),
                AnyConnection::Postgresql(c) => diesel::insert_into($table).values(chunk).execute(c).unwrap(),
            };
        }
    };
}

#[derive(Insertable)]
#[diesel(table_name = subscriptions, treat_none_as_default_value = false)]
struct Row {
    distributor_id: &'static str,
    external_id: String,
    comment: Option<String>,
    resource_id: String,
    resource_id_type: &'static str,
    resource_label: String,
    valid_from: NaiveDateTime,
    valid_until: Option<NaiveDateTime>,
    end_school_year: Option<String>,
    ends_at: Option<NaiveDateTime>,
    nature_codes: Option<String>,
    category: &'static str,
    assignment_type: &'static str,
    licences_pupil: Option<i64>,
    licences_teacher: Option<i64>,
    licences_librarian: Option<i64>,
    licences_other_staff: Option<i64>,
    licences_global: Option<i64>,
    project_code: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    deleted_at: Option<NaiveDateTime>,
}

/// The `n`-th school's UAI (check letter valid).
pub fn school(n: usize) -> String {
    let number = 1_000_000 + n as u32;
    format!("{number:07}{}", check_letter(number))
}

/// ENT project Z0 with `schools` collèges, the distributor, and `count` subscriptions of it:
/// one school each, every fifth ETABL (four publics, ILLIMITE), the others INDIV (pupils and
/// teachers, counted), ids `LOAD-000001`…, 100 project codes. `progress` gets rows done.
pub fn seed(conn: &mut AnyConnection, schools: usize, count: usize, mut progress: impl FnMut(usize)) {
    let now = Utc::now().naive_utc();
    partners::insert_ent_project(conn, "Z0", "ENT de charge").unwrap();
    partners::insert_distributor(conn, DISTRIBUTOR, "Distributeur de charge").unwrap();
    let rows: Vec<_> = (0..schools)
        .map(|n| {
            (
                establishments::uai.eq(school(n)),
                establishments::ent_id.eq("Z0"),
                establishments::name.eq(format!("Collège {n}")),
                establishments::degree.eq(2),
                establishments::nature_code.eq("340"),
                establishments::created_at.eq(now),
                establishments::updated_at.eq(now),
            )
        })
        .collect();
    insert_chunks!(conn, establishments::table, rows);

    let start: NaiveDateTime = "2026-09-01T00:00:00".parse().unwrap();
    let end: NaiveDateTime = "2027-08-31T23:59:59".parse().unwrap();
    for first in (1..=count).step_by(10 * CHUNK) {
        let last = (first + 10 * CHUNK - 1).min(count);
        let rows: Vec<Row> = (first..=last)
            .map(|n| {
                let school_wide = n % 5 == 0;
                let counted = |count: i64| (!school_wide).then_some(count);
                Row {
                    distributor_id: DISTRIBUTOR,
                    external_id: format!("LOAD-{n:06}"),
                    comment: None,
                    resource_id: format!("ark:/99999/load.{}", n % 50),
                    resource_id_type: "ark",
                    resource_label: format!("Ressource {}", n % 50),
                    valid_from: start,
                    valid_until: Some(end),
                    end_school_year: None,
                    ends_at: Some(end),
                    nature_codes: None,
                    category: "transferable",
                    assignment_type: if school_wide { "ETABL" } else { "INDIV" },
                    licences_pupil: counted(30),
                    licences_teacher: counted(5),
                    licences_librarian: None,
                    licences_other_staff: None,
                    licences_global: school_wide.then_some(-1),
                    project_code: Some(format!("PRJ-{:02}", n % 100)),
                    created_at: now - TimeDelta::seconds((count - n) as i64),
                    updated_at: now - TimeDelta::seconds((count - n) as i64),
                    deleted_at: None,
                }
            })
            .collect();
        insert_chunks!(conn, subscriptions::table, rows);
        let ids: Vec<(String, i64, String)> = subscriptions::table
            .filter(subscriptions::external_id.ge(format!("LOAD-{first:06}")))
            .filter(subscriptions::external_id.le(format!("LOAD-{last:06}")))
            .select((subscriptions::external_id, subscriptions::id, subscriptions::assignment_type))
            .load(conn)
            .unwrap();
        let mut publics = Vec::new();
        let mut schools_of = Vec::new();
        let mut pools = Vec::new();
        for (external_id, id, kind) in &ids {
            let n: usize = external_id["LOAD-".len()..].parse().unwrap();
            let uai = school(n % schools);
            let targeted: &[&str] = if kind == "ETABL" {
                &["ELEVE", "ENSEIGNANT", "DOCUMENTALISTE", "AUTRE PERSONNEL"]
            } else {
                &["ELEVE", "ENSEIGNANT"]
            };
            for public in targeted {
                publics.push((subscription_publics::subscription_id.eq(*id), subscription_publics::public.eq(*public)));
            }
            schools_of.push((
                subscription_establishments::subscription_id.eq(*id),
                subscription_establishments::uai.eq(uai.clone()),
            ));
            let counters: &[(&str, Option<i64>)] =
                if kind == "ETABL" { &[("GLOBAL", None)] } else { &[("ELEVE", Some(30)), ("ENSEIGNANT", Some(5))] };
            for (public, total) in counters {
                pools.push((
                    licence_pools::subscription_id.eq(*id),
                    licence_pools::uai.eq(uai.clone()),
                    licence_pools::public.eq(*public),
                    licence_pools::total.eq(*total),
                    licence_pools::used.eq(0i64),
                ));
            }
        }
        insert_chunks!(conn, subscription_publics::table, publics);
        insert_chunks!(conn, subscription_establishments::table, schools_of);
        insert_chunks!(conn, licence_pools::table, pools);
        progress(last);
    }
}
