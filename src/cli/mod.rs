//! The `sesame` commands. Exit codes: 0 success, 1 failure, 2 bad configuration or usage.
//!
//! One module per command group; this one parses arguments and maps failures to exit codes.

mod certs;
mod ent;
mod resource;
mod serve;

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
    /// The resource catalogue.
    #[command(subcommand)]
    Resource(resource::ResourceCommand),
    /// ENT project settings.
    #[command(subcommand)]
    Ent(ent::EntCommand),
}

impl Cli {
    pub fn run(self) -> ExitCode {
        let result = Config::load(self.config.as_deref()).map_err(anyhow::Error::from).and_then(|config| {
            init_tracing(&config.log);
            match self.command {
                Command::Serve => serve::serve(config),
                Command::Migrate => serve::migrate(&config),
                Command::Demo => serve::demo(config),
                Command::Certs(command) => command.run(&config),
                Command::Resource(command) => command.run(&config),
                Command::Ent(command) => command.run(&config),
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
