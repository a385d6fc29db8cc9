//! The `sesame` commands. Exit codes: 0 success, 1 failure, 2 bad configuration or usage.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::config::{Config, ConfigError};
use crate::http::{Application, init_tracing};
use crate::pki::{LocalAuthority, TlsPaths};
use crate::store::partners::{self, CallerKind};
use crate::store::{self, DatabaseUrl};
use crate::{demo, http};

#[derive(Parser)]
#[command(name = "sesame", version, about = "Open, GAR-compatible resource access broker for schools")]
pub struct Cli {
    /// TOML configuration file; settings can also come from SESAME_… variables.
    #[arg(long, short, global = true, env = "SESAME_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve both listeners until SIGTERM, applying pending migrations first.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Start on a fresh embedded database loaded with the demo académie.
    Demo,
    /// Development certificates from the local CA.
    #[command(subcommand)]
    Certs(CertsCommand),
}

#[derive(Subcommand)]
enum CertsCommand {
    /// Issue a client certificate for an ENT project or a distributor, and register it.
    IssueClient(IssueClient),
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("owner").required(true).args(["ent", "distributor"])))]
struct IssueClient {
    /// ENT project id (idENT), e.g. Z0.
    #[arg(long)]
    ent: Option<String>,
    /// Distributor id (SIREN_ISNI).
    #[arg(long)]
    distributor: Option<String>,
    /// Folder for the certificate and key; default `<data_dir>/clients`.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Only write the files; do not allow the certificate on the mTLS listener.
    #[arg(long)]
    no_register: bool,
}

impl Cli {
    pub fn run(self) -> ExitCode {
        let result = Config::load(self.config.as_deref()).map_err(anyhow::Error::from).and_then(|config| {
            init_tracing(&config.log);
            match self.command {
                Command::Serve => serve(config),
                Command::Migrate => migrate(&config),
                Command::Demo => run_demo(config),
                Command::Certs(CertsCommand::IssueClient(args)) => issue_client(&config, args),
            }
        });
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("sesame: {e:#}");
                if e.is::<ConfigError>() { ExitCode::from(2) } else { ExitCode::FAILURE }
            }
        }
    }
}

fn serve(config: Config) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(config.clone())?;
        print_listeners(&config, &app);
        app.run_until_stopped().await?;
        Ok(())
    })
}

/// Printed on stdout so scripts (and tests) learn the bound ports.
fn print_listeners(config: &Config, app: &Application) {
    println!("public listener: {}", public_base(config, app));
    println!("mTLS listener: https://{}", app.mtls_addr());
}

fn public_base(config: &Config, app: &Application) -> String {
    format!("http{}://{}", if config.http.public_tls { "s" } else { "" }, app.public_addr())
}

fn migrate(config: &Config) -> anyhow::Result<()> {
    let url = config.database_url();
    let applied = store::run_migrations(&mut url.connect()?)?;
    println!("{url}: {applied} migration(s) applied");
    Ok(())
}

fn issue_client(config: &Config, args: IssueClient) -> anyhow::Result<()> {
    let (kind, owner) = match (args.ent, args.distributor) {
        (Some(ent), None) => (CallerKind::Ent, ent),
        (None, Some(distributor)) => (CallerKind::Distributor, distributor),
        _ => unreachable!("clap requires exactly one owner"),
    };
    let out = args.out.unwrap_or_else(|| config.data_dir.join("clients"));
    let mut conn = config.database_url().connect()?;
    store::run_migrations(&mut conn)?;
    let (cert_path, key_path) = issue_and_register(config, &mut conn, kind, &owner, &out, !args.no_register)?;
    println!("certificate: {}\nprivate key: {}", cert_path.display(), key_path.display());
    Ok(())
}

/// Issues a client certificate from the local CA into `out` and (optionally) registers it.
fn issue_and_register(
    config: &Config,
    conn: &mut store::AnyConnection,
    kind: CallerKind,
    owner: &str,
    out: &Path,
    register: bool,
) -> anyhow::Result<(PathBuf, PathBuf)> {
    let known = match kind {
        CallerKind::Ent => partners::find_ent_project_name(conn, owner)?,
        CallerKind::Distributor => partners::find_distributor_name(conn, owner)?,
    };
    if register && known.is_none() {
        let what = if kind == CallerKind::Ent { "ENT project" } else { "distributor" };
        anyhow::bail!("unknown {what} `{owner}`: register it first");
    }
    let authority =
        LocalAuthority::load_or_create(&TlsPaths::in_data_dir(&config.data_dir), &http::server_names(config))?;
    let label = match kind {
        CallerKind::Ent => format!("ENT {owner}"),
        CallerKind::Distributor => format!("Distributor {owner}"),
    };
    let issued = authority.issue_client(&label)?;
    let stem = format!("{}-{}", if kind == CallerKind::Ent { "ent" } else { "distributor" }, owner);
    let (cert_path, key_path) = (out.join(format!("{stem}.pem")), out.join(format!("{stem}.key")));
    std::fs::create_dir_all(out)?;
    std::fs::write(&cert_path, &issued.cert_pem)?;
    write_private(&key_path, &issued.key_pem)?;
    if register {
        partners::register_certificate(conn, &issued.info, kind, owner)?;
    }
    Ok((cert_path, key_path))
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// `sesame demo`: always a fresh embedded database, whatever `database.url` says.
fn run_demo(mut config: Config) -> anyhow::Result<()> {
    let db = config.data_dir.join("demo.sqlite3");
    for suffix in ["", "-wal", "-shm"] {
        let path = PathBuf::from(format!("{}{suffix}", db.display()));
        if path.exists() {
            std::fs::remove_file(&path)?;
        }
    }
    config.database.url = Some(DatabaseUrl::Sqlite(db).to_string());
    let mut conn = config.database_url().connect()?;
    store::run_migrations(&mut conn)?;
    let loaded = demo::load(&mut conn).context("loading the demo académie failed")?;
    println!("Demo académie loaded into {}:\n{loaded}", config.database_url());

    let clients = config.data_dir.join("demo-clients");
    let mut certificates = Vec::new();
    for (kind, owner) in loaded.callers() {
        certificates.push(issue_and_register(&config, &mut conn, kind, &owner, &clients, true)?);
    }
    drop(conn);

    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(config.clone())?;
        print_listeners(&config, &app);
        print_demo_urls(&config, &app, &certificates);
        app.run_until_stopped().await?;
        Ok(())
    })
}

fn print_demo_urls(config: &Config, app: &Application, certificates: &[(PathBuf, PathBuf)]) {
    let public = public_base(config, app);
    let ca = TlsPaths::in_data_dir(&config.data_dir).ca_cert;
    println!("\nTry:");
    for path in ["/healthz", "/readyz", "/metrics"] {
        println!("  curl {public}{path}");
    }
    for (cert, key) in certificates {
        println!(
            "  curl --cacert {} --cert {} --key {} https://{}/v1/whoami",
            ca.display(),
            cert.display(),
            key.display(),
            app.mtls_addr()
        );
    }
    println!("\nStop with Ctrl-C.");
}
