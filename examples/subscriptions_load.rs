//! Load test of the abonnement web service over real mutual TLS, as distributors call it.
//!
//! Starts a node (the same `Application` `sesame serve` runs) on a fresh database holding
//! `SESAME_LOAD_SUBSCRIPTIONS` subscriptions (default 100,000) of one distributor, then:
//! 1. creates `SESAME_LOAD_CREATES` new subscriptions (default 20,000) through
//!    `SESAME_LOAD_CONNECTIONS` keep-alive HTTP/1.1 connections (default 16), and reports creates/s,
//!    also as a share of the rate of as many `GET /v1/whoami` (TLS, HTTP, caller lookup: the floor
//!    every call pays) measured just before on the same connections;
//! 2. runs `SESAME_LOAD_SEARCHES` searches of each kind (default 300) one after the other and
//!    reports their latency percentiles: a school's subscriptions (django-gar), a page of 100 at a
//!    random offset (paging clients), a filtered and date-bounded page of 100, and the same sorted
//!    on a field without an index.
//!
//! SQLite by default; PostgreSQL with `SESAME_LOAD_DATABASE_URL=postgres://…` (a database of its own).
//! Run: `cargo run --release --example subscriptions_load`.

#[path = "../benches/support/subscription_seed.rs"]
mod subscription_seed;

use std::sync::{Arc, mpsc};
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

        // The floor: the same number of trivial mTLS calls (caller lookup only) on the same
        // connections, so creates/s can be read as a ratio whatever else loads the machine.
        let whoami: Request = Arc::new(|c, base, _, _| c.get(format!("{base}/v1/whoami")));
        let (elapsed, mut latencies) = hammer(&clients, &base, creates, whoami, 200).await;
        let floor = creates as f64 / elapsed.as_secs_f64();
        println!(
            "{backend}: {creates} GET /v1/whoami over {connections} connections in {elapsed:.2?} = {floor:.0} calls/s; latency {}",
            percentiles(&mut latencies)
        );
        let create: Request = Arc::new(move |c, base, worker, k| {
            let id = format!("NEW-{worker:03}-{k:06}");
            c.put(format!("{base}/{id}")).body(abonnement(&id, &school((worker * 7919 + k) % schools)))
        });
        let (elapsed, mut latencies) = hammer(&clients, &base, creates, create, 201).await;
        let rate = creates as f64 / elapsed.as_secs_f64();
        println!(
            "{backend}, {stored} stored: {creates} creates over {connections} connections in {elapsed:.2?} = {rate:.0} creates/s \
             ({:.0}% of the whoami rate); latency {}",
            100.0 * rate / floor,
            percentiles(&mut latencies)
        );

        let c = client();
        let total = stored + creates;
        let filtered = "<filtre><filtreNom>typeAffectation</filtreNom><filtreValeur>INDIV</filtreValeur></filtre>\
             <filtre><filtreNom>publicCible</filtreNom><filtreValeur>ELEVE</filtreValeur></filtre>\
             <filtreParDate><dateName>finValidite</dateName><dateApres>2027-08-01</dateApres></filtreParDate>";
        let cases: [(&str, Search); 4] = [
            (
                "a school's subscriptions (uaiEtab filter)",
                Box::new(move |i| {
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
                "INDIV for pupils ending after 2027-08-01, page of 100 at a random offset, by idAbonnement",
                Box::new(move |i| (format!("debut={}&fin=100", (i * 7919) % (total / 2)), filtered.to_owned())),
            ),
            (
                "the same sorted by libelleRessource (no index: every match is sorted)",
                Box::new(move |i| {
                    let sorted = format!("{filtered}<triPar>libelleRessource</triPar><tri>ASC</tri>");
                    (format!("debut={}&fin=100", (i * 7919) % (total / 2)), sorted)
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

/// The query string and `<filtres>` content of the `i`-th search of a kind.
type Search = Box<dyn Fn(usize) -> (String, String)>;

/// Builds the `k`-th request of connection `worker`.
type Request = Arc<dyn Fn(&reqwest::Client, &str, usize, usize) -> reqwest::RequestBuilder + Send + Sync>;

/// Sends `count` requests spread over the connections, each connection one after the other;
/// returns the wall time and each request's latency. Every answer must have `status`.
async fn hammer(
    clients: &[reqwest::Client],
    base: &str,
    count: usize,
    request: Request,
    status: u16,
) -> (Duration, Vec<Duration>) {
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for (worker, c) in clients.iter().cloned().enumerate() {
        let (base, request) = (base.to_owned(), request.clone());
        let share = count / clients.len() + usize::from(worker < count % clients.len());
        workers.spawn(async move {
            let mut latencies = Vec::with_capacity(share);
            for k in 0..share {
                let sent = Instant::now();
                let response = request(&c, &base, worker, k).send().await.unwrap();
                let got = response.status().as_u16();
                let text = response.text().await.unwrap();
                assert_eq!(got, status, "{text}");
                latencies.push(sent.elapsed());
            }
            latencies
        });
    }
    let mut latencies = Vec::with_capacity(count);
    while let Some(done) = workers.join_next().await {
        latencies.extend(done.unwrap());
    }
    (started.elapsed(), latencies)
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
