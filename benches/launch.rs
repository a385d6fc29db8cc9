//! One resource launch against the cryptography it cannot avoid, on one thread, in one run:
//! (a) the raw aws-lc-rs RSA-2048 (PKCS#1 v1.5, SHA-256) signing rate; (b) a full launch as
//! `/domaineGar` runs it with a valid session — entitlement check on a real database (the demo
//! académie; SQLite, and PostgreSQL when available), approved contract, attribute values from the
//! directory, signed Response, release appended to the audit log; (c) the same without the audit
//! append; and (b′), (c′) for a service provider taking assertion-only signatures (one RSA
//! signature instead of two). After the criterion groups, a direct interleaved measurement prints
//! the rates and their ratios to (a) (skipped in `--test` mode), with the rate of a launch's
//! database reads alone for reference.
//!
//! Run: `cargo bench --bench launch` (`LAUNCH_BENCH_SECS`, default 3, sets how long the ratios
//! are measured for); PostgreSQL too when `TEST_POSTGRES_URL` names a throwaway server.
//! `benches/satosa/run` compares the launch rate with SATOSA's.

use std::hint::black_box;
use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use chrono::Utc;
use criterion::Criterion;
use diesel::connection::SimpleConnection;
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;
use sesame::config::Config;
use sesame::domain::Uai;
use sesame::domain::audit::Actor;
use sesame::domain::entitlement::{Clock, Resolution};
use sesame::domain::pseudonym::Pseudonyms;
use sesame::domain::release::ReleaseAttribute;
use sesame::pki::{KeyMaterial, KeyPaths};
use sesame::sso::contracts::{self, Approval, ContractTarget};
use sesame::sso::launch::release::{self, LaunchRequest, Launcher};
use sesame::sso::registry::{self, PublisherRegistration};
use sesame::sso::saml::SamlContext;
use sesame::store::launch::{Wanted, launch_target, person_facts};
use sesame::store::saml::{find_service_provider_by_entity_id, set_sign_response};
use sesame::store::{self, AnyConnection, DatabaseUrl, entitlements};

const PUBLISHER: &str = "999000201_0000000000000000";
const SP: &str = "https://encyclopedie.example/saml/metadata";
const RESOURCE: &str = "ark:/99999/demo.encyclopedie";
const PUPIL: &str = "z0-elv-0001";
const COLLEGE: &str = "0990001N";
/// A canonical SignedInfo is about this long: what each raw signature covers.
const SIGNED_INFO_BYTES: usize = 620;

const SP_METADATA: &str = r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://encyclopedie.example/saml/metadata"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://encyclopedie.example/saml/acs" index="0"/></md:SPSSODescriptor></md:EntityDescriptor>"#;

struct Fixture {
    conn: AnyConnection,
    saml: SamlContext,
    pseudonyms: Pseudonyms,
    sp_id: i64,
    uai: Uai,
    raw_rsa: RsaKeyPair,
    message: Vec<u8>,
    _dir: tempfile::TempDir,
}

/// SQLite in a temporary folder, and PostgreSQL when `TEST_POSTGRES_URL` names a throwaway server.
fn databases(dir: &std::path::Path) -> Vec<(&'static str, DatabaseUrl)> {
    let mut databases = vec![("sqlite", DatabaseUrl::Sqlite(dir.join("bench.sqlite3")))];
    if let Ok(admin) = std::env::var("TEST_POSTGRES_URL") {
        let mut conn = DatabaseUrl::parse(&admin).unwrap().connect().unwrap();
        conn.batch_execute("DROP DATABASE IF EXISTS sesame_bench_launch").unwrap();
        conn.batch_execute("CREATE DATABASE sesame_bench_launch").unwrap();
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path("sesame_bench_launch");
        databases.push(("postgres", DatabaseUrl::parse(url.as_str()).unwrap()));
    }
    databases
}

impl Fixture {
    fn new(database: &DatabaseUrl) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = database.connect().unwrap();
        store::run_migrations(&mut conn).unwrap();
        sesame::demo::load(&mut conn).unwrap();
        let registration = PublisherRegistration {
            publisher_id: PUBLISHER,
            name: "Dictionnaires",
            xml: SP_METADATA,
            url: None,
            resources: &[],
            sign_response: None,
        };
        let sp_id = registry::register_publisher(&mut conn, &registration, Actor::operator(), Utc::now()).unwrap().id;
        let approval = Approval {
            target: ContractTarget::ServiceProvider(SP.into()),
            attributes: vec![ReleaseAttribute::Div],
            purpose: "Accès".into(),
            legal_basis: "RGPD 6.1.e".into(),
            approver: "DPO".into(),
            retention_days: 365,
        };
        contracts::approve(&mut conn, &approval, Utc::now()).unwrap();

        let material = KeyMaterial::load_or_create(&KeyPaths::in_data_dir(dir.path())).unwrap();
        let mut config = Config::default();
        config.http.public_url = Some("https://sesame.example.org".into());
        let saml = SamlContext::new(&config, &material).unwrap();
        let Ok(PrivateKeyDer::Pkcs8(der)) = PrivateKeyDer::from_pem_slice(material.signing_key_pem.as_bytes()) else {
            panic!("PKCS#8 key")
        };
        let raw_rsa = RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).unwrap();
        Self {
            conn,
            saml,
            pseudonyms: Pseudonyms::new(&material.pseudonym_secret),
            sp_id,
            uai: Uai::parse(COLLEGE).unwrap(),
            raw_rsa,
            message: vec![b'x'; SIGNED_INFO_BYTES],
            _dir: dir,
        }
    }

    fn raw_sign(&self) -> u8 {
        let mut signature = vec![0; self.raw_rsa.public_modulus_len()];
        self.raw_rsa.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), &self.message, &mut signature).unwrap();
        signature[0]
    }

    fn sign_response(&mut self, sign_response: bool) {
        assert!(set_sign_response(&mut self.conn, self.sp_id, sign_response).unwrap());
        let sp = find_service_provider_by_entity_id(&mut self.conn, SP).unwrap().unwrap();
        assert_eq!(sp.sign_response, sign_response);
    }

    /// One launch; `audited`: the release is appended to the audit log (as `/domaineGar` does).
    fn launch(&mut self, audited: bool) -> usize {
        let now = Utc::now();
        let launcher = Launcher { saml: &self.saml, pseudonyms: &self.pseudonyms, deletion_grace_days: 15 };
        let request = LaunchRequest {
            ent_id: "Z0",
            gar_id: PUPIL,
            uai: Some(&self.uai),
            resource_id: RESOURCE,
            authn_request: None,
            authn_instant: now,
            now,
        };
        let released = if audited {
            release::launch(&mut self.conn, launcher, &request)
        } else {
            release::prepare(&mut self.conn, launcher, &request)
        };
        released.expect("the pupil may open the encyclopedia").saml_response.len()
    }

    /// The database reads of one launch alone: resource, provider and contract; entitlements;
    /// the attributes' directory facts.
    fn reads(&mut self) -> usize {
        let target = launch_target(&mut self.conn, RESOURCE).unwrap().unwrap();
        let clock = Clock::new(Utc::now().naive_utc(), 15);
        let Resolution::Granted(found) = entitlements::resolve(&mut self.conn, "Z0", PUPIL, &self.uai, clock).unwrap()
        else {
            panic!("granted")
        };
        let wanted = Wanted { divisions: true, ..Wanted::default() };
        let facts = person_facts(&mut self.conn, found.person_id, COLLEGE, wanted).unwrap();
        target.resource_url.len() + facts.divisions.len()
    }
}

fn bench(c: &mut Criterion, backend: &str, fixture: &mut Fixture) {
    let mut group = c.benchmark_group(format!("launch_{backend}"));
    group.bench_function("raw_rsa2048_sha256_sign", |b| b.iter(|| black_box(fixture.raw_sign())));
    for (sign_response, suffix) in [(true, ""), (false, "_assertion_only")] {
        fixture.sign_response(sign_response);
        group.bench_function(format!("launch_audited{suffix}"), |b| b.iter(|| black_box(fixture.launch(true))));
        group.bench_function(format!("launch_without_audit{suffix}"), |b| b.iter(|| black_box(fixture.launch(false))));
    }
    fixture.sign_response(true);
    group.bench_function("database_reads_of_a_launch", |b| b.iter(|| black_box(fixture.reads())));
    group.finish();
}

/// Operations per second of `work`, run for about `budget`.
fn rate(budget: Duration, mut work: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut count = 0u64;
    while start.elapsed() < budget {
        work();
        count += 1;
    }
    count as f64 / start.elapsed().as_secs_f64()
}

fn report_ratios(backend: &str, fixture: &mut Fixture) {
    let secs: u64 = std::env::var("LAUNCH_BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    // Many short interleaved slices, judged by the median of their ratios, so that load from other
    // processes (a shared machine) weighs on every side alike.
    const ROUNDS: u32 = 30;
    let slice = Duration::from_secs(secs) / (6 * ROUNDS);
    let names = [
        "raw aws-lc-rs RSA-2048 signatures/s      ",
        "(b)  launches/s, audited (2 RSA sigs)    ",
        "(c)  launches/s, without audit           ",
        "(b') launches/s, audited, assertion only ",
        "(c') launches/s, no audit, assertion only",
        "     the database reads of a launch alone ",
    ];
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    for _ in 0..ROUNDS {
        rates[0].push(rate(slice, || {
            black_box(fixture.raw_sign());
        }));
        for (index, (sign_response, audited)) in
            [(true, true), (true, false), (false, true), (false, false)].into_iter().enumerate()
        {
            fixture.sign_response(sign_response);
            rates[index + 1].push(rate(slice, || {
                black_box(fixture.launch(audited));
            }));
        }
        rates[5].push(rate(slice, || {
            black_box(fixture.reads());
        }));
    }
    fixture.sign_response(true);
    let median = |values: &mut Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let ratios: Vec<f64> = (1..names.len())
        .map(|i| {
            let mut per_round: Vec<f64> = rates[i].iter().zip(&rates[0]).map(|(r, raw)| r / raw).collect();
            median(&mut per_round)
        })
        .collect();
    println!("\nlaunch, one thread, {backend}, {ROUNDS} interleaved rounds (median rates):");
    for (i, name) in names.iter().enumerate() {
        let value = median(&mut rates[i].clone());
        match i {
            0 | 5 => println!("  {name}: {value:>7.0}"),
            _ => println!("  {name}: {value:>7.0}   {:>5.1} % of raw", 100.0 * ratios[i - 1]),
        }
    }
    println!("  (two signatures per Response: ceiling 50 % of raw; assertion only: ceiling 100 %)");
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let mut criterion =
        Criterion::default().sample_size(20).measurement_time(Duration::from_secs(3)).configure_from_args();
    let mut fixtures: Vec<(&str, Fixture)> =
        databases(dir.path()).iter().map(|(backend, url)| (*backend, Fixture::new(url))).collect();
    for (backend, fixture) in &mut fixtures {
        bench(&mut criterion, backend, fixture);
    }
    criterion.final_summary();
    if !std::env::args().any(|arg| arg == "--test") {
        for (backend, fixture) in &mut fixtures {
            report_ratios(backend, fixture);
        }
    }
}
