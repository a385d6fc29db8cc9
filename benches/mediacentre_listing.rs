//! Cost of one médiacentre listing inside Sesame, without HTTP: the entitlement resolution, the
//! catalogue read and the JSON rendering, against the floor of a trivial query on the same
//! connection. The académie is the load benchmark's, sized by `BENCH_PERSONS` (default 2,000 so
//! that `cargo test --benches -- --test` stays quick; `scripts/bench-mediacentre` measures the
//! whole server on 1,000,000). Run: `BENCH_PERSONS=100000 cargo bench --bench mediacentre_listing`
//! (PostgreSQL too when `TEST_POSTGRES_URL` names a throwaway server).

use std::hint::black_box;

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use sesame::demo::load_scaled::{ScalePlan, load_scaled};
use sesame::domain::Uai;
use sesame::domain::pseudonym::Pseudonyms;
use sesame::mediacentre::listing::{self, Notices, Scope};
use sesame::mediacentre::notice_cache::NoticeCache;
use sesame::store::schema::{person_establishments, persons};
use sesame::store::{self, AnyConnection, DatabaseUrl, entitlements};

fn prepared(url: &DatabaseUrl, persons: usize) -> (AnyConnection, Vec<(String, Uai, String)>) {
    let mut conn = url.connect().unwrap();
    store::run_migrations(&mut conn).unwrap();
    load_scaled(&mut conn, ScalePlan::for_persons(persons, 2), &Pseudonyms::new(b"bench"), &mut |_| {}).unwrap();
    let users: Vec<(String, String, String)> = persons::table
        .inner_join(person_establishments::table)
        .select((persons::ent_id, person_establishments::uai, persons::gar_id))
        .load(&mut conn)
        .unwrap();
    let users = users.into_iter().map(|(ent, uai, gar_id)| (ent, Uai::parse(&uai).unwrap(), gar_id)).collect();
    (conn, users)
}

fn bench(c: &mut Criterion) {
    let persons = std::env::var("BENCH_PERSONS").ok().and_then(|n| n.parse().ok()).unwrap_or(2_000);
    let dir = tempfile::tempdir().unwrap();
    let mut targets = vec![("sqlite", DatabaseUrl::Sqlite(dir.path().join("bench.sqlite3")))];
    if let Ok(admin) = std::env::var("TEST_POSTGRES_URL") {
        let mut conn = DatabaseUrl::parse(&admin).unwrap().connect().unwrap();
        conn.batch_execute("DROP DATABASE IF EXISTS sesame_bench_listing").unwrap();
        conn.batch_execute("CREATE DATABASE sesame_bench_listing").unwrap();
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path("sesame_bench_listing");
        targets.push(("postgres", DatabaseUrl::parse(url.as_str()).unwrap()));
    }
    for (name, url) in targets {
        let (mut conn, users) = prepared(&url, persons);
        let now = sesame::domain::entitlement::Clock::new(Utc::now().naive_utc(), 15);
        let mut group = c.benchmark_group(format!("mediacentre_listing/{name}"));
        group.bench_function("select_1", |b| b.iter(|| conn.batch_execute(black_box("SELECT 1")).unwrap()));
        let mut n = 0usize;
        let mut next = || {
            n = (n + 7919) % users.len();
            &users[n]
        };
        group.bench_function("resolve", |b| {
            b.iter(|| {
                let (ent, uai, gar_id) = next();
                entitlements::resolve(&mut conn, ent, gar_id, uai, now).unwrap()
            })
        });
        let cache = NoticeCache::default();
        let notices = Notices { cache: &cache, refresh: std::time::Duration::from_secs(2) };
        group.bench_function("list", |b| {
            b.iter(|| {
                let (ent, uai, gar_id) = next();
                listing::list(&mut conn, &notices, ent, gar_id, &Scope::School(uai.clone()), now).unwrap()
            })
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
