//! The licence ledger's hot paths in a lycée with 200 subscriptions (a fifth ETABL): resolving
//! one pupil's entitlements (médiacentre listing and sign-on), and assigning a 35-pupil class.
//! `select_1` is the floor of one round trip on the same connection.
//!
//! The lycée is the demo's, scaled up: `SESAME_BENCH_PUPILS` pupils in classes of 35 (default 300,
//! so `cargo test --benches -- --test` stays quick; the targets are stated for 3000).
//! Run: `SESAME_BENCH_PUPILS=3000 cargo bench --bench ledger` (PostgreSQL too when
//! `TEST_POSTGRES_URL` names a throwaway server).

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use diesel::connection::SimpleConnection;
use sesame::assignments::{self, Author};
use sesame::demo::{Fixtures, generate};
use sesame::domain::assignment::AssignmentTarget;
use sesame::domain::entitlement::{Clock, Resolution};
use sesame::domain::pseudonym::Pseudonyms;
use sesame::domain::subscription::Subscription;
use sesame::domain::{Profile, Uai};
use sesame::store::directory::insert_directory;
use sesame::store::{self, AnyConnection, DatabaseUrl, entitlements, partners, subscriptions};

const LYCEE: &str = "0990002P";
const CLASS_SIZE: u32 = 35;
const SUBSCRIPTIONS: usize = 200;
/// About how many INDIV resources each pupil holds a seat of (the other ~40 are ETABL).
const SEATS_PER_PUPIL: usize = 20;
const DISTRIBUTOR: &str = "999000101_0000000000000000";

/// The lycée's class codes once scaled: `{level}-{n}`.
struct Lycee {
    classes: Vec<String>,
    pupil: String,
}

/// The demo lycée alone, with as many 35-pupil classes as `pupils` needs, spread over its levels.
fn build_lycee(conn: &mut AnyConnection, pupils: usize) -> Lycee {
    let mut settings = Fixtures::embedded().unwrap().settings;
    settings.ents.retain(|ent| ent.id == "Z0");
    settings.establishments.retain(|school| school.uai.as_str() == LYCEE);
    settings.shared_teachers.clear();
    let school = &mut settings.establishments[0];
    school.class_size = CLASS_SIZE;
    let per_level = pupils.div_ceil(CLASS_SIZE as usize).div_ceil(school.levels.len()).max(1);
    // Teachers grow with the classes (the demo's shared German teacher stays at the collège).
    for subject in &mut school.subjects {
        subject.teachers = (subject.teachers.max(1) * per_level as u32).div_ceil(2);
    }
    let mut renamed: Vec<(String, Vec<String>)> = Vec::new();
    for level in &mut school.levels {
        let prefix = level.divisions[0].chars().next().unwrap_or('X');
        let new: Vec<String> = (1..=per_level).map(|n| format!("{prefix}-{n:02}")).collect();
        renamed.extend(level.divisions.iter().map(|old| (old.clone(), new.clone())));
        level.divisions = new;
    }
    for option in &mut school.options {
        let mut divisions: Vec<String> = option
            .divisions
            .iter()
            .flat_map(|old| renamed.iter().find(|(o, _)| o == old).map(|(_, new)| new.clone()).unwrap_or_default())
            .collect();
        divisions.sort();
        divisions.dedup();
        option.divisions = divisions;
    }
    settings.validate().expect("scaled settings stay valid");
    let directory = generate(&settings, settings.seed).remove(0);
    partners::insert_ent_project(conn, "Z0", "ENT").unwrap();
    partners::insert_distributor(conn, DISTRIBUTOR, "Distributeur").unwrap();
    insert_directory(conn, &directory).unwrap();
    let classes: Vec<String> =
        renamed.into_iter().flat_map(|(_, new)| new).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let pupil = directory
        .persons
        .iter()
        .find(|p| p.profiles.iter().any(|at| at.profile == Profile::Pupil))
        .map(|p| p.gar_id.clone())
        .unwrap();
    Lycee { classes, pupil }
}

fn subscription(n: usize, etabl: bool, pupils: u64) -> Subscription {
    let mut json = serde_json::json!({
        "idAbonnement": format!("BENCH-{n:03}"),
        "idDistributeurCom": DISTRIBUTOR,
        "idRessource": format!("ark:/99999/bench.{n:03}"),
        "typeIdRessource": "ark",
        "libelleRessource": format!("Ressource {n}"),
        "debutValidite": "2026-09-01T00:00:00",
        "anneeFinValidite": "2026-2027",
        "uaiEtab": [LYCEE],
        "categorieAffectation": "transferable",
        "publicCible": ["ELEVE", "ENSEIGNANT"]
    });
    if etabl {
        json["typeAffectation"] = "ETABL".into();
        json["nbLicenceGlobale"] = "ILLIMITE".into();
    } else {
        // Pupils' textbooks: a class assignment seats its pupils only.
        json["typeAffectation"] = "INDIV".into();
        json["publicCible"] = serde_json::json!(["ELEVE"]);
        json["nbLicenceEleve"] = pupils.into();
    }
    serde_json::from_value(json).unwrap()
}

/// 200 subscriptions; the INDIV ones assigned to classes round robin, so that each pupil holds
/// about `SEATS_PER_PUPIL` seats.
fn sell_and_assign(conn: &mut AnyConnection, lycee: &Lycee, pseudonyms: &Pseudonyms) {
    let uai = Uai::parse(LYCEE).unwrap();
    let author = Author::manager("Z0", "z0-dir-0001", pseudonyms);
    let individual = SUBSCRIPTIONS - SUBSCRIPTIONS.div_ceil(5);
    let per_subscription = (lycee.classes.len() * SEATS_PER_PUPIL).div_ceil(individual).min(lycee.classes.len());
    let mut next_class = 0;
    for n in 0..SUBSCRIPTIONS {
        let id = subscriptions::insert_subscription(conn, &subscription(n, n % 5 == 0, 100_000)).unwrap();
        if n % 5 == 0 {
            continue;
        }
        for _ in 0..per_subscription {
            let class = AssignmentTarget::Division(lycee.classes[next_class % lycee.classes.len()].clone());
            next_class += 1;
            assignments::assign(conn, &author, &uai, id, class).unwrap();
        }
    }
}

fn bench(c: &mut Criterion) {
    let pupils: usize = std::env::var("SESAME_BENCH_PUPILS").ok().and_then(|n| n.parse().ok()).unwrap_or(300);
    let dir = tempfile::tempdir().unwrap();
    let mut targets = vec![("sqlite", DatabaseUrl::Sqlite(dir.path().join("bench.sqlite3")))];
    if let Ok(admin) = std::env::var("TEST_POSTGRES_URL") {
        let mut conn = DatabaseUrl::parse(&admin).unwrap().connect().unwrap();
        conn.batch_execute("DROP DATABASE IF EXISTS sesame_bench_ledger").unwrap();
        conn.batch_execute("CREATE DATABASE sesame_bench_ledger").unwrap();
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path("sesame_bench_ledger");
        targets.push(("postgres", DatabaseUrl::parse(url.as_str()).unwrap()));
    }
    let pseudonyms = Pseudonyms::new(b"bench secret");
    let uai = Uai::parse(LYCEE).unwrap();

    for (name, url) in targets {
        let mut conn = url.connect().unwrap();
        store::run_migrations(&mut conn).unwrap();
        let started = Instant::now();
        let lycee = build_lycee(&mut conn, pupils);
        sell_and_assign(&mut conn, &lycee, &pseudonyms);
        eprintln!(
            "ledger/{name}: {} classes of {CLASS_SIZE}, {SUBSCRIPTIONS} subscriptions, set up in {:.1?}",
            lycee.classes.len(),
            started.elapsed()
        );
        let clock = Clock::new(Utc::now().naive_utc(), 15);
        let Resolution::Granted(found) = entitlements::resolve(&mut conn, "Z0", &lycee.pupil, &uai, clock).unwrap()
        else {
            panic!("the bench pupil is in the lycée")
        };
        eprintln!("ledger/{name}: the resolved pupil may open {} resources", found.resources.len());

        let mut group = c.benchmark_group(format!("ledger/{name}"));
        group.bench_function("select_1", |b| b.iter(|| conn.batch_execute(black_box("SELECT 1")).unwrap()));
        group.bench_function("resolve_one_school", |b| {
            b.iter(|| entitlements::resolve(&mut conn, "Z0", black_box(&lycee.pupil), &uai, clock).unwrap())
        });
        group.bench_function("resolve_all_schools", |b| {
            b.iter(|| entitlements::resolve_all(&mut conn, "Z0", black_box(&lycee.pupil), clock).unwrap())
        });

        // A fresh subscription; each iteration assigns one class (timed) and withdraws it (not timed).
        let fresh =
            subscriptions::insert_subscription(&mut conn, &subscription(SUBSCRIPTIONS, false, 100_000)).unwrap();
        let author = Author::manager("Z0", "z0-dir-0001", &pseudonyms);
        let class = AssignmentTarget::Division(lycee.classes[0].clone());
        group.bench_function("assign_35_pupil_class", |b| {
            b.iter_custom(|iterations| {
                let mut timed = Duration::ZERO;
                for _ in 0..iterations {
                    let start = Instant::now();
                    let assigned = assignments::assign(&mut conn, &author, &uai, fresh, class.clone()).unwrap();
                    timed += start.elapsed();
                    assert_eq!(assigned.changes.granted, CLASS_SIZE as usize);
                    assignments::withdraw(&mut conn, &author, &uai, fresh, class.clone()).unwrap();
                }
                timed
            })
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
