//! Audit costs: appending one event to the chain (what every sign-on launch pays), and a
//! data-subject export (build, sign, record) for one person among many, with a year of releases.
//!
//! Sizes come from the environment, small by default so `cargo test --benches -- --test` is quick:
//! `SESAME_BENCH_PERSONS` (default 2,000; the target is 1,000,000) and
//! `SESAME_BENCH_RELEASES_PER_PERSON` (other people's releases, default 3). The person exported
//! has 500 releases over the past year. The académie is generated inside the database by SQL, not
//! row by row; generated events carry placeholder hashes (exports do not verify the chain).
//! Run: `SESAME_BENCH_PERSONS=1000000 cargo bench --bench audit` (PostgreSQL too when
//! `TEST_POSTGRES_URL` names a throwaway server; its database is dropped at the end).

use std::hint::black_box;
use std::time::Instant;

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use diesel::connection::SimpleConnection;
use serde_json::json;
use sesame::audit::export::{self, data_subject};
use sesame::audit::signing::Signer;
use sesame::domain::audit::{Actor, AuditEvent, AuditKind};
use sesame::domain::pseudonym::Pseudonyms;
use sesame::pki::{KeyMaterial, KeyPaths};
use sesame::store::{self, AnyConnection, Backend, DatabaseUrl, audit, write_transaction};

const TARGET: &str = "bench-0000001";
const TARGET_RELEASES: u64 = 500;
const SCHOOLS: u64 = 20;
const CLASSES: u64 = 30;

fn env_size(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(default)
}

/// `n` from 1 to `count`, as a recursive CTE both backends run.
fn series(count: u64) -> String {
    format!("WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {count})")
}

/// A timestamp `minutes` (an SQL expression) before now.
fn minutes_ago(backend: Backend, minutes: &str) -> String {
    match backend {
        Backend::Sqlite => format!("datetime('now', '-' || ({minutes}) || ' minutes')"),
        Backend::Postgresql => format!("(now() AT TIME ZONE 'UTC') - ({minutes}) * interval '1 minute'"),
    }
}

fn timed(label: &str, conn: &mut AnyConnection, sql: &str) {
    let started = Instant::now();
    conn.batch_execute(sql).unwrap_or_else(|e| panic!("{label}: {e}"));
    eprintln!("  {label}: {:.1} s", started.elapsed().as_secs_f64());
}

/// The académie: `persons` pupils in 20 schools and 30 classes each, other people's releases,
/// and the target person's year of releases.
fn generate(conn: &mut AnyConnection, backend: Backend, persons: u64, releases_per_person: u64, target_subject: &str) {
    let now = minutes_ago(backend, "0");
    eprintln!(
        "generating {persons} persons and {} release events ({backend})",
        persons * releases_per_person + TARGET_RELEASES
    );
    timed("schools", conn, &format!(
        "INSERT INTO ent_projects (id, name, created_at) VALUES ('Z0', 'ENT', {now});
         INSERT INTO publishers (id, name, created_at) VALUES ('999000102_0000000000000000', 'Éditions Banc', {now});
         INSERT INTO establishments (uai, ent_id, name, degree, created_at, updated_at)
           {} SELECT 'B' || n, 'Z0', 'Collège ' || n, 2, {now}, {now} FROM s;
         INSERT INTO school_groups (uai, code, label, status)
           {} SELECT 'B' || (1 + (n - 1) / {CLASSES}), 'C' || ((n - 1) % {CLASSES}), 'Classe', 'DIVISION' FROM s;
         INSERT INTO resources (id, id_type, name, publisher_id, url, presentation_code, presentation_label,
             pedagogical_types, document_types, education_levels, teaching_domains, tech_distributor_id,
             tech_validator_id, source_label, created_at, updated_at)
           {} SELECT 'ark:/99999/bench.' || n, 'ARK', 'Ressource ' || n, '999000102_0000000000000000', 'https://r.example/',
             'MAN', 'manuel', '[]', '[]', '[]', '[]', 'x', 'x', 'x', {now}, {now} FROM s;",
        series(SCHOOLS), series(SCHOOLS * CLASSES), series(5)
    ));
    let padded = match backend {
        Backend::Sqlite => "substr('0000000' || n, -7, 7)",
        Backend::Postgresql => "lpad(n::text, 7, '0')",
    };
    timed("persons", conn, &format!(
        "INSERT INTO persons (ent_id, gar_id, source, last_name, first_name, other_first_names, mails, created_at, updated_at)
           {} SELECT 'Z0', 'bench-' || {padded}, 'ELEVE', 'Nom' || n, 'Prénom', '[\"Prénom\"]', '[]', {now}, {now} FROM s",
        series(persons)
    ));
    timed("memberships", conn, &format!(
        "INSERT INTO person_establishments (person_id, uai) SELECT id, 'B' || (1 + id % {SCHOOLS}) FROM persons;
         INSERT INTO person_profiles (person_id, uai, profile) SELECT id, 'B' || (1 + id % {SCHOOLS}), 'National_elv' FROM persons;
         INSERT INTO person_groups (person_id, group_id)
           SELECT p.id, g.id FROM persons p JOIN school_groups g ON g.uai = 'B' || (1 + p.id % {SCHOOLS}) AND g.code = 'C' || (p.id % {CLASSES});"
    ));
    let details = |resource: &str| {
        format!(
            "'{{\"assertion\":\"_a\",\"attributes\":[\"IDO\",\"PRO\",\"UAI\"],\"contract\":{{\"id\":1,\"version\":1}},\
             \"publisher\":\"999000102_0000000000000000\",\"resource\":\"ark:/99999/bench.' || ({resource}) || '\",\"sp\":\"https://sp.example\"}}'"
        )
    };
    let zeros = "'0000000000000000000000000000000000000000000000000000000000000000'";
    timed(
        "release events",
        conn,
        &format!(
            "INSERT INTO audit_events (at, kind, actor, ent_id, uai, subject, details, prev_hash, hash)
           {} SELECT {}, 'release', 'ent:Z0', 'Z0', 'B' || (1 + n % {SCHOOLS}), 'p-bench-' || (n % {persons}),
             {}, {zeros}, {zeros} FROM s;
         INSERT INTO audit_events (at, kind, actor, ent_id, uai, subject, details, prev_hash, hash)
           {} SELECT {}, 'release', 'ent:Z0', 'Z0', 'B2', '{target_subject}', {}, {zeros}, {zeros} FROM s;",
            series(persons * releases_per_person),
            minutes_ago(backend, "n % 525600"),
            details("1 + n % 5"),
            series(TARGET_RELEASES),
            minutes_ago(backend, "n * 1051"),
            details("1 + n % 5"),
        ),
    );
    let analyze = match backend {
        Backend::Sqlite => "ANALYZE",
        Backend::Postgresql => "VACUUM ANALYZE",
    };
    timed("analyze", conn, analyze);
}

struct Target {
    name: &'static str,
    url: DatabaseUrl,
    drop_after: Option<(String, String)>,
}

fn targets(dir: &std::path::Path) -> Vec<Target> {
    let mut targets =
        vec![Target { name: "sqlite", url: DatabaseUrl::Sqlite(dir.join("audit-bench.sqlite3")), drop_after: None }];
    if let Ok(admin) = std::env::var("TEST_POSTGRES_URL") {
        let mut conn = DatabaseUrl::parse(&admin).unwrap().connect().unwrap();
        // Two calls: PostgreSQL runs one multi-statement batch as a transaction, which DROP DATABASE refuses.
        conn.batch_execute("DROP DATABASE IF EXISTS sesame_bench_audit").unwrap();
        conn.batch_execute("CREATE DATABASE sesame_bench_audit").unwrap();
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path("sesame_bench_audit");
        targets.push(Target {
            name: "postgres",
            url: DatabaseUrl::parse(url.as_str()).unwrap(),
            drop_after: Some((admin, "sesame_bench_audit".into())),
        });
    }
    targets
}

fn bench(c: &mut Criterion) {
    let persons = env_size("SESAME_BENCH_PERSONS", 2_000);
    let releases = env_size("SESAME_BENCH_RELEASES_PER_PERSON", 3);
    let dir = tempfile::tempdir().unwrap();
    let keys = KeyMaterial::load_or_create(&KeyPaths::in_data_dir(dir.path())).unwrap();
    let signer = Signer::new(&keys).unwrap();
    let pseudonyms = Pseudonyms::new(&keys.pseudonym_secret);
    let subject = pseudonyms.audit_subject("Z0", TARGET);
    let config = sesame::config::Config::default();

    for target in targets(dir.path()) {
        let mut conn = target.url.connect().unwrap();
        store::run_migrations(&mut conn).unwrap();
        generate(&mut conn, target.url.backend(), persons, releases, &subject);

        let mut group = c.benchmark_group(format!("audit/{}", target.name));
        // The floor: an empty write transaction, what any change pays anyway.
        group.bench_function("empty_write_transaction", |b| {
            b.iter(|| write_transaction(&mut conn, |_| Ok::<_, diesel::result::Error>(())).unwrap())
        });
        let event = AuditEvent::new(
            AuditKind::Release,
            Actor::ent("Z0"),
            json!({
                "resource": "ark:/99999/bench.1", "publisher": "999000102_0000000000000000", "sp": "https://sp.example",
                "contract": { "id": 1, "version": 1 }, "attributes": ["IDO", "PRO", "UAI"], "assertion": "_bench",
            }),
        )
        .ent("Z0")
        .uai("B2")
        .subject("p-bench-append");
        group.bench_function("append_in_own_transaction", |b| {
            b.iter(|| write_transaction(&mut conn, |conn| audit::append(conn, black_box(&event))).unwrap())
        });
        group.bench_function(format!("data_subject_export_1_of_{persons}"), |b| {
            b.iter(|| {
                let document =
                    data_subject::build(&mut conn, &pseudonyms, &config, "Z0", TARGET, Utc::now().naive_utc()).unwrap();
                assert_eq!(document.files.len(), 2);
                export::seal(&mut conn, &signer, document, &Actor::operator()).unwrap()
            })
        });
        group.finish();

        let exported =
            data_subject::build(&mut conn, &pseudonyms, &config, "Z0", TARGET, Utc::now().naive_utc()).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&exported.files[0].bytes).unwrap();
        assert_eq!(json["releases"].as_array().unwrap().len() as u64, TARGET_RELEASES, "the target's year of releases");
        drop(conn);
        if let Some((admin, name)) = target.drop_after {
            let mut admin = DatabaseUrl::parse(&admin).unwrap().connect().unwrap();
            admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).unwrap();
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
