//! Cost of identifying an mTLS caller, paid on every ENT and distributor request: a
//! certificate lookup among 2,000 registered ones, against the floor of a trivial query on the
//! same connection. Run: `cargo bench --bench caller_identity` (PostgreSQL too when
//! `TEST_POSTGRES_URL` names a throwaway server).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use diesel::connection::SimpleConnection;
use sesame::pki::{LocalAuthority, TlsPaths};
use sesame::store::partners::{self, CallerKind, CertificateKey};
use sesame::store::{self, AnyConnection, DatabaseUrl};

fn prepared(url: &DatabaseUrl, authority: &LocalAuthority) -> (AnyConnection, String) {
    let mut conn = url.connect().unwrap();
    store::run_migrations(&mut conn).unwrap();
    partners::insert_ent_project(&mut conn, "Z0", "ENT").unwrap();
    let mut last = String::new();
    for n in 0..2_000 {
        let issued = authority.issue_client(&format!("client {n}")).unwrap();
        partners::register_certificate(&mut conn, &issued.info, CallerKind::Ent, "Z0").unwrap();
        last = issued.info.fingerprint;
    }
    (conn, last)
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let authority = LocalAuthority::load_or_create(&TlsPaths::in_data_dir(dir.path()), &[]).unwrap();
    let mut targets = vec![("sqlite", DatabaseUrl::Sqlite(dir.path().join("bench.sqlite3")))];
    let pg_database = std::env::var("TEST_POSTGRES_URL").ok().map(|admin| {
        let mut conn = DatabaseUrl::parse(&admin).unwrap().connect().unwrap();
        // Two calls: PostgreSQL runs one multi-statement batch as a transaction, which DROP DATABASE refuses.
        conn.batch_execute("DROP DATABASE IF EXISTS sesame_bench").unwrap();
        conn.batch_execute("CREATE DATABASE sesame_bench").unwrap();
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path("sesame_bench");
        url.to_string()
    });
    if let Some(url) = &pg_database {
        targets.push(("postgres", DatabaseUrl::parse(url).unwrap()));
    }

    for (name, url) in targets {
        let (mut conn, fingerprint) = prepared(&url, &authority);
        let mut group = c.benchmark_group(format!("caller_identity/{name}"));
        group.bench_function("select_1", |b| b.iter(|| conn.batch_execute(black_box("SELECT 1")).unwrap()));
        group.bench_function("find_caller", |b| {
            b.iter(|| partners::find_caller(&mut conn, CertificateKey::Fingerprint(black_box(&fingerprint))).unwrap())
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
