//! Load test of the abonnement web service over real mutual TLS, as distributors call it.
//!
//! Starts a node (the same `Application` `sesame serve` runs) on a fresh database holding
//! `SESAME_LOAD_SUBSCRIPTIONS` subscriptions (default 100,000) of one distributor, then:
//! 1. creates `SESAME_LOAD_CREATES` new subscriptions (default 20,000) through
//!    `SESAME_LOAD_CONNECTIONS` keep-alive HTTP/1.1 connections (default 16), and reports creates/s;
//! 2. runs `SESAME_LOAD_SEARCHES` searches of each kind (default 300) one after the other and
//!    reports their latency percentiles: a school's subscriptions (django-gar), a page of 100 deep
//!    in the list, a filtered and date-bounded page of 100.
//!
//! SQLite by default; PostgreSQL with `SESAME_LOAD_DATABASE_URL=postgres://…` (a database of its own).
//! Run: `cargo run --release --example subscriptions_load`.

#[path = "../benches/support/subscription_seed.rs"]
mod subscription_seed;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use sesame::config::Config;
use sesame::http::Application;
use sesame::pki::{LocalAuthority, TlsPaths};
use sesame::store::partners::{self, CallerKind};
use sesame::store::{self, DatabaseUrl};
use subscription_seed::{DISTRIBUTOR, school, seed};

const NS: &str = "http://www.atosworldline.com/wsabonnement/v1.0/";

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let stored = env("SESAME_LOAD_SUBSCRIPTIONS", 100_000);
    let creates = env("SESAME_LOAD_CREATES", 20_000);
    let connections = env("SESAME_LOAD_CONNECTIONS", 16);
    let searches = env("SESAME_LOAD_SEARCHES", 300);
    let schools = (stored / 50).max(10);

    let dir = tempfile::tempdir().unwrap();
    let mut config = Config { data_dir: dir.path().to_owned(), ..Config::default() };
    config.http.public_addr = "127.0.0.1:0".parse().unwrap();
    config.http.mtls_addr = "127.0.0.1:0".parse().unwrap();
    if let Ok(url) = std::env::var("SESAME_LOAD_DATABASE_URL") {
        config.database.url = Some(url);
    }
    let url: DatabaseUrl = config.database_url();
    let backend = url.backend();

    let started = Instant::now();
    let mut conn = url.connect().unwrap();
    store::run_migrations(&mut conn).unwrap();
    seed(&mut conn, schools, stored, |done| {
        if done % 20_000 == 0 || done == stored {
            eprintln!("  seeded {done}/{stored} subscriptions");
        }
    });
    let authority = LocalAuthority::load_or_create(&TlsPaths::in_data_dir(dir.path()), &["localhost".into()]).unwrap();
    let issued = authority.issue_client("load distributor").unwrap();
    partners::register_certificate(&mut conn, &issued.info, CallerKind::Distributor, DISTRIBUTOR).unwrap();
    drop(conn);
    eprintln!("{backend}: {stored} subscriptions over {schools} schools seeded in {:.1?}", started.elapsed());

    let (sender, addresses) = mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let app = Application::build(config).unwrap();
            sender.send(app.mtls_addr()).unwrap();
            app.run_until_stopped().await.unwrap();
        })
    });
    let mtls = addresses.recv().unwrap();
    let base = format!("https://localhost:{}", mtls.port());
    let ca =
        reqwest::Certificate::from_pem(&std::fs::read(TlsPaths::in_data_dir(dir.path()).ca_cert).unwrap()).unwrap();
    let identity = reqwest::Identity::from_pem(format!("{}\n{}", issued.cert_pem, issued.key_pem).as_bytes()).unwrap();
    // One client per connection, HTTP/1.1 with keep-alive, as distributors' PHP/Python clients call.
    let client = || {
        reqwest::Client::builder()
            .tls_certs_only([ca.clone()])
            .identity(identity.clone())
            .http1_only()
            .pool_max_idle_per_host(1)
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap()
    };

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        // Warm the connections (TLS handshakes are not what is measured).
        let clients: Vec<reqwest::Client> = (0..connections).map(|_| client()).collect();
        for c in &clients {
            assert!(c.get(format!("{base}/v1/whoami")).send().await.unwrap().status().is_success());
        }

        let started = Instant::now();
        let mut workers = tokio::task::JoinSet::new();
        for (worker, c) in clients.iter().cloned().enumerate() {
            let base = base.clone();
            let share = creates / connections + usize::from(worker < creates % connections);
            workers.spawn(async move {
                let mut latencies = Vec::with_capacity(share);
                for k in 0..share {
                    let id = format!("NEW-{worker:03}-{k:06}");
                    let body = abonnement(&id, &school((worker * 7919 + k) % schools));
                    let sent = Instant::now();
                    let response = c.put(format!("{base}/{id}")).body(body).send().await.unwrap();
                    let status = response.status();
                    let text = response.text().await.unwrap();
                    assert_eq!(status.as_u16(), 201, "{text}");
                    latencies.push(sent.elapsed());
                }
                latencies
            });
        }
        let mut latencies = Vec::new();
        while let Some(done) = workers.join_next().await {
            latencies.extend(done.unwrap());
        }
        let elapsed = started.elapsed();
        println!(
            "{backend}, {stored} stored: {creates} creates over {connections} connections in {elapsed:.2?} = {:.0} creates/s; latency {}",
            creates as f64 / elapsed.as_secs_f64(),
            percentiles(&mut latencies)
        );

        let c = client();
        let total = stored + creates;
        let cases: [(&str, Box<dyn Fn(usize) -> (String, String)>); 3] = [
            (
                "a school's subscriptions (uaiEtab filter)",
                Box::new(|i| {
                    let filter = format!(
                        "<filtre><filtreNom>idDistributeurCom</filtreNom><filtreValeur>{DISTRIBUTOR}</filtreValeur></filtre>\
                         <filtre><filtreNom>uaiEtab</filtreNom><filtreValeur>{}</filtreValeur></filtre>",
                        school(i * 31 % schools)
                    );
                    ("debut=0&fin=5000".into(), filter)
                }),
            ),
            (
                "a page of 100 at a random offset, by idAbonnement",
                Box::new(move |i| (format!("debut={}&fin=100", (i * 7919) % (total - 100)), String::new())),
            ),
            (
                "INDIV for pupils ending after 2027-08-01, by libelleRessource, page of 100",
                Box::new(move |i| {
                    let filter = "<filtre><filtreNom>typeAffectation</filtreNom><filtreValeur>INDIV</filtreValeur></filtre>\
                         <filtre><filtreNom>publicCible</filtreNom><filtreValeur>ELEVE</filtreValeur></filtre>\
                         <filtreParDate><dateName>finValidite</dateName><dateApres>2027-08-01</dateApres></filtreParDate>\
                         <triPar>libelleRessource</triPar><tri>ASC</tri>";
                    (format!("debut={}&fin=100", (i * 7919) % (total / 2)), filter.to_owned())
                }),
            ),
        ];
        for (name, case) in cases {
            let mut latencies = Vec::with_capacity(searches);
            let mut found = 0;
            for i in 0..searches {
                let (query, filter) = case(i);
                let body = format!("<filtres xmlns=\"{NS}\">{filter}</filtres>");
                let sent = Instant::now();
                let response = c.get(format!("{base}/abonnements?{query}")).body(body).send().await.unwrap();
                assert!(response.status().is_success());
                found += response.text().await.unwrap().matches("<abonnement>").count();
                latencies.push(sent.elapsed());
            }
            println!(
                "{backend}, {total} stored: search, {name}: {searches} calls, {:.0} results each; latency {}",
                found as f64 / searches as f64,
                percentiles(&mut latencies)
            );
        }
    });
}

fn abonnement(id: &str, uai: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><abonnement xmlns=\"{NS}\"><idAbonnement>{id}</idAbonnement>\
         <idDistributeurCom>{DISTRIBUTOR}</idDistributeurCom><idRessource>ark:/99999/load.new</idRessource>\
         <typeIdRessource>ark</typeIdRessource><libelleRessource>Charge</libelleRessource>\
         <debutValidite>2026-09-01T00:00:00</debutValidite><finValidite>2027-08-31T23:59:59</finValidite>\
         <uaiEtab>{uai}</uaiEtab><categorieAffectation>transferable</categorieAffectation>\
         <typeAffectation>INDIV</typeAffectation><nbLicenceEnseignant>5</nbLicenceEnseignant>\
         <nbLicenceEleve>30</nbLicenceEleve><publicCible>ELEVE</publicCible><publicCible>ENSEIGNANT</publicCible>\
         </abonnement>"
    )
}

fn percentiles(latencies: &mut [Duration]) -> String {
    latencies.sort();
    let at = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    format!(
        "p50 {:.1?}, p90 {:.1?}, p99 {:.1?}, max {:.1?}",
        at(0.50),
        at(0.90),
        at(0.99),
        latencies[latencies.len() - 1]
    )
}
