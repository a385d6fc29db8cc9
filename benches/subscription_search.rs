//! Latency of the abonnement search in the store, without HTTP: a school's subscriptions
//! (django-gar's filter), a page of 100 deep in the full list (paging clients), and a filtered,
//! date-bounded page. `SESAME_BENCH_SUBSCRIPTIONS` stored subscriptions (default 2,000; the
//! target is measured with 100,000). PostgreSQL too when `TEST_POSTGRES_URL` names a throwaway
//! server. The over-HTTPS figures come from `examples/subscriptions_load.rs`.
//! Run: `SESAME_BENCH_SUBSCRIPTIONS=100000 cargo bench --bench subscription_search`.

#[path = "support/subscription_seed.rs"]
mod subscription_seed;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use diesel::connection::SimpleConnection;
use sesame::domain::Public;
use sesame::store::subscription_search::{DateField, DateRange, Filter, Search, SortKey, search};
use sesame::store::{self, DatabaseUrl};
use subscription_seed::{DISTRIBUTOR, school, seed};

fn bench(c: &mut Criterion) {
    let count: usize = std::env::var("SESAME_BENCH_SUBSCRIPTIONS").ok().and_then(|n| n.parse().ok()).unwrap_or(2_000);
    let schools = (count / 50).max(10);
    let dir = tempfile::tempdir().unwrap();
    let mut targets = vec![("sqlite", DatabaseUrl::Sqlite(dir.path().join("bench.sqlite3")))];
    if let Ok(admin) = std::env::var("TEST_POSTGRES_URL") {
        let mut conn = DatabaseUrl::parse(&admin).unwrap().connect().unwrap();
        conn.batch_execute("DROP DATABASE IF EXISTS sesame_bench_search").unwrap();
        conn.batch_execute("CREATE DATABASE sesame_bench_search").unwrap();
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path("sesame_bench_search");
        targets.push(("postgres", DatabaseUrl::parse(url.as_str()).unwrap()));
    }

    let by_school = Search {
        filters: vec![Filter::Distributor(vec![DISTRIBUTOR.into()]), Filter::School(vec![school(schools / 2)])],
        limit: 5000,
        ..Search::default()
    };
    let deep_page = Search { offset: (count as i64 * 9 / 10).max(0), limit: 100, ..Search::default() };
    let filtered_page = Search {
        filters: vec![Filter::AssignmentType(vec!["INDIV".into()]), Filter::Public(vec![Public::Pupil])],
        dates: vec![DateRange { field: DateField::EndsAt, after: "2027-08-01T00:00:00".parse().ok(), before: None }],
        sort: SortKey::ResourceLabel,
        offset: (count as i64 / 2).max(0),
        limit: 100,
        ..Search::default()
    };

    for (name, url) in targets {
        let mut conn = url.connect().unwrap();
        store::run_migrations(&mut conn).unwrap();
        seed(&mut conn, schools, count, |_| {});
        let mut group = c.benchmark_group(format!("subscription_search/{name}/{count}"));
        for (case, query) in
            [("by_school", &by_school), ("deep_page_of_100", &deep_page), ("filtered_page_of_100", &filtered_page)]
        {
            group.bench_function(case, |b| b.iter(|| search(&mut conn, DISTRIBUTOR, black_box(query)).unwrap()));
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
