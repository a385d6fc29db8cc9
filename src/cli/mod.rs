//! The `sesame` commands. Exit codes: 0 success, 1 failure, 2 bad configuration or usage,
//! 3 an import held for confirmation (`sesame feed`).
//!
//! One module per command group; this one parses arguments and maps failures to exit codes.

mod audit;
mod certs;
mod distributor;
mod ent;
mod feed;
mod fixtures;
mod person;
mod resource;
mod schools;
mod serve;
mod sso;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, ConfigError};
use crate::http::init_tracing;

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
    Certs(certs::CertsCommand),
    /// The audit log: verify it, signed CNIL exports, retention, auditors.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Data-protection requests about one person.
    #[command(subcommand)]
    Person(person::PersonCommand),
    /// Commercial distributors of the abonnement web service.
    #[command(subcommand)]
    Distributor(distributor::DistributorCommand),
    /// National directory attributes of schools.
    #[command(subcommand)]
    Schools(schools::SchoolsCommand),
    /// ENT projects (school portals).
    #[command(subcommand)]
    Ent(ent::EntCommand),
    /// Directory feed: import GAR-ENT exports, confirm held ones, read reports.
    #[command(subcommand)]
    Feed(feed::FeedCommand),
    /// GAR-ENT exports of the demo académie or of a synthetic one of any size.
    #[command(subcommand)]
    Fixtures(fixtures::FixturesCommand),
    /// The resource catalogue.
    #[command(subcommand)]
    Resource(resource::ResourceCommand),
    /// Publishers and the SAML service providers their assertions go to.
    #[command(subcommand)]
    Publisher(sso::PublisherCommand),
    /// Release contracts: what each publisher's service provider receives.
    #[command(subcommand)]
    Contract(sso::ContractCommand),
}

impl Cli {
    pub fn run(self) -> ExitCode {
        let result = Config::load(self.config.as_deref()).map_err(anyhow::Error::from).and_then(|config| {
            init_tracing(&config.log);
            match self.command {
                Command::Serve => serve::serve(config).map(|()| 0),
                Command::Migrate => serve::migrate(&config).map(|()| 0),
                Command::Demo => serve::demo(config).map(|()| 0),
                Command::Certs(command) => command.run(&config).map(|()| 0),
                Command::Audit(command) => command.run(&config).map(|()| 0),
                Command::Person(command) => command.run(&config).map(|()| 0),
                Command::Distributor(command) => command.run(&config).map(|()| 0),
                Command::Schools(command) => command.run(&config).map(|()| 0),
                Command::Ent(command) => command.run(&config).map(|()| 0),
                Command::Feed(command) => command.run(&config),
                Command::Fixtures(command) => command.run().map(|()| 0),
                Command::Resource(command) => command.run(&config).map(|()| 0),
                Command::Publisher(command) => command.run(&config).map(|()| 0),
                Command::Contract(command) => command.run(&config).map(|()| 0),
            }
        });
        match result {
            Ok(code) => ExitCode::from(code),
            Err(e) => {
                eprintln!("sesame: {e:#}");
                if e.is::<ConfigError>() { ExitCode::from(2) } else { ExitCode::FAILURE }
            }
        }
    }
}

/// A client certificate given on the command line (`--cert PEM`).
fn read_certificate(path: &std::path::Path) -> anyhow::Result<crate::pki::CertificateInfo> {
    use anyhow::Context;
    let pem = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    crate::pki::CertificateInfo::from_pem(&pem)
        .map_err(|e| anyhow::anyhow!("{} is not a PEM certificate: {e}", path.display()))
}
