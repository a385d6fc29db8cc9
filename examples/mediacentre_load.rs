//! Load generator for the médiacentre listing (see `scripts/bench-mediacentre`): a fixed number
//! of HTTP/1.1 keep-alive connections over mutual TLS, each one an ENT project's client asking for
//! random users of that project, as an ENT portal does. Measures `/healthz` on the same
//! connections first, as the ceiling of the stack (TLS, HTTP, routing), then the listing.
//!
//! wrk cannot present client certificates, hence this tool.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

#[derive(Parser)]
struct Args {
    /// The mutual-TLS listener, e.g. https://localhost:8443.
    #[arg(long)]
    url: String,
    /// CA certificate the server's certificate chains to.
    #[arg(long)]
    ca: PathBuf,
    /// Folder of `ent-<ID>.pem` and `ent-<ID>.key` client certificates, one per ENT project.
    #[arg(long)]
    certs: PathBuf,
    /// Lines `ENT UAI GARPersonIdentifiant`.
    #[arg(long)]
    users: PathBuf,
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Seconds of each measured phase.
    #[arg(long, default_value_t = 20)]
    duration: u64,
    /// Seconds of unmeasured warm-up before each phase.
    #[arg(long, default_value_t = 5)]
    warmup: u64,
    /// Runtime threads of the generator itself.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Ask for gzip, as OPEN-ENT-NG does.
    #[arg(long)]
    gzip: bool,
    /// The server's process id: reports the server's CPU time per request (Linux), a figure
    /// that other load on the machine does not distort as it does the rates.
    #[arg(long)]
    server_pid: Option<u32>,
}

/// User plus system CPU seconds of a process so far, from /proc.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is parenthesised and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // USER_HZ is 100 on Linux.
    Some(ticks / 100.0)
}

struct Phase {
    name: &'static str,
    requests: u64,
    errors: u64,
    seconds: f64,
    latencies_us: Vec<u32>,
    /// Server CPU seconds spent during the measured part.
    server_cpu: Option<f64>,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    fn percentile(&self, p: f64) -> f64 {
        let index = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        self.latencies_us.get(index).map_or(0.0, |us| f64::from(*us) / 1000.0)
    }

    fn report(&self) {
        println!(
            "{:<9} {:>9.0} req/s  {:>8} requests  {:>4} errors  p50 {:>6.2} ms  p90 {:>6.2} ms  p99 {:>6.2} ms  max {:>7.2} ms",
            self.name,
            self.rate(),
            self.requests,
            self.errors,
            self.percentile(0.50),
            self.percentile(0.90),
            self.percentile(0.99),
            self.percentile(1.0),
        );
        if let Some(cpu) = self.server_cpu {
            println!(
                "{:<9} server CPU {:.1} s over {:.0} s = {:.2} cores busy, {:.0} µs of server CPU per request",
                "",
                cpu,
                self.seconds,
                cpu / self.seconds,
                cpu * 1e6 / self.requests.max(1) as f64
            );
        }
    }
}

type Users = HashMap<String, Vec<(String, String)>>;

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(args.threads).enable_all().build()?;
    runtime.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let mut users: Users = HashMap::new();
    for line in std::fs::read_to_string(&args.users)?.lines() {
        let mut fields = line.split(' ');
        if let (Some(ent), Some(uai), Some(gar_id)) = (fields.next(), fields.next(), fields.next()) {
            users.entry(ent.to_owned()).or_default().push((uai.to_owned(), gar_id.to_owned()));
        }
    }
    let mut ents: Vec<String> = users.keys().cloned().collect();
    ents.sort();
    anyhow::ensure!(!ents.is_empty(), "no users in {}", args.users.display());
    let users = Arc::new(users);
    let ca = reqwest::Certificate::from_pem(&std::fs::read(&args.ca)?)?;

    // One client (one connection) per task, each bound to one ENT project's certificate.
    let mut clients = Vec::with_capacity(args.connections);
    for n in 0..args.connections {
        let ent = &ents[n % ents.len()];
        let pem = [
            std::fs::read(args.certs.join(format!("ent-{ent}.pem")))?,
            std::fs::read(args.certs.join(format!("ent-{ent}.key")))?,
        ]
        .concat();
        let client = reqwest::Client::builder()
            .tls_certs_only([ca.clone()])
            .identity(reqwest::Identity::from_pem(&pem)?)
            .http1_only()
            .pool_max_idle_per_host(1)
            .timeout(Duration::from_secs(30))
            .build()?;
        clients.push((ent.clone(), client));
    }
    let clients = Arc::new(clients);
    println!(
        "{} connections, {} users over {} ENT projects, {} s per phase after {} s warm-up{}",
        args.connections,
        users.values().map(Vec::len).sum::<usize>(),
        ents.len(),
        args.duration,
        args.warmup,
        if args.gzip { ", gzip" } else { "" }
    );
    let healthz = phase("healthz", &args, &clients, &users, false).await;
    healthz.report();
    let listing = phase("listing", &args, &clients, &users, true).await;
    listing.report();
    println!("listing/healthz = {:.2}", listing.rate() / healthz.rate());
    if let (Some(l), Some(h)) = (listing.server_cpu, healthz.server_cpu) {
        let per_request = |cpu: f64, p: &Phase| cpu / p.requests.max(1) as f64;
        println!("server CPU per listing / per healthz = {:.1}", per_request(l, &listing) / per_request(h, &healthz));
    }
    Ok(())
}

async fn phase(
    name: &'static str,
    args: &Args,
    clients: &Arc<Vec<(String, reqwest::Client)>>,
    users: &Arc<Users>,
    listing: bool,
) -> Phase {
    let warmup_end = Instant::now() + Duration::from_secs(args.warmup);
    let end = warmup_end + Duration::from_secs(args.duration);
    let server = args.server_pid;
    let cpu_at_start = tokio::spawn(async move {
        tokio::time::sleep_until(warmup_end.into()).await;
        server.and_then(cpu_seconds)
    });
    let mut tasks = Vec::new();
    for n in 0..clients.len() {
        let (clients, users, base, gzip) = (clients.clone(), users.clone(), args.url.clone(), args.gzip);
        tasks.push(tokio::spawn(async move {
            let (ent, client) = &clients[n];
            let mine = &users[ent];
            let mut rng = SmallRng::seed_from_u64(n as u64);
            let (mut latencies, mut errors) = (Vec::new(), 0u64);
            loop {
                let url = if listing {
                    let (uai, gar_id) = &mine[rng.random_range(0..mine.len())];
                    format!("{base}/ressources/{ent}/{uai}/{gar_id}")
                } else {
                    format!("{base}/healthz")
                };
                let mut request = client.get(url).header("Accept", "application/json");
                if gzip {
                    request = request.header("Accept-Encoding", "gzip");
                }
                let started = Instant::now();
                let ok = match request.send().await {
                    Ok(response) => response.status().is_success() && response.bytes().await.is_ok(),
                    Err(_) => false,
                };
                let now = Instant::now();
                if now >= end {
                    break;
                }
                if now >= warmup_end {
                    latencies.push(u32::try_from((now - started).as_micros()).unwrap_or(u32::MAX));
                    errors += u64::from(!ok);
                }
            }
            (latencies, errors)
        }));
    }
    let cpu_end = tokio::spawn(async move {
        tokio::time::sleep_until(end.into()).await;
        server.and_then(cpu_seconds)
    });
    let mut all = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (latencies, task_errors) = task.await.expect("load task");
        all.extend(latencies);
        errors += task_errors;
    }
    all.sort_unstable();
    let server_cpu = match (cpu_at_start.await.ok().flatten(), cpu_end.await.ok().flatten()) {
        (Some(start), Some(end)) => Some(end - start),
        _ => None,
    };
    Phase { name, requests: all.len() as u64, errors, seconds: args.duration as f64, latencies_us: all, server_cpu }
}
