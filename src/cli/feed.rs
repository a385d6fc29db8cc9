//! `sesame feed`: import GAR-ENT exports, confirm or discard held ones, read reports.
//!
//! Exit codes of `import` and `confirm`: 0 applied, 3 held for confirmation (large deletion),
//! 1 refused or failed.

use std::path::PathBuf;
use std::sync::Mutex;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::Config;
use crate::domain::audit::Actor;
use crate::domain::pseudonym::Pseudonyms;
use crate::feed::source;
use crate::feed::{self, FeedError, Options, Outcome, Phase, Progress, Report};
use crate::pki::{KeyMaterial, KeyPaths};
use crate::store::feed::imports::{self, ImportStatus};
use crate::store::{self, AnyConnection};

#[derive(Subcommand)]
pub(super) enum FeedCommand {
    /// Import exports: `.tar.gz` bundles (checked against their `.md5`), XML files or folders.
    Import(Import),
    /// Apply a held import, whatever it removes.
    Confirm(ById),
    /// Give a held import up.
    Discard(ById),
    /// Print the report of an import.
    Report(ReportArgs),
    /// List the latest imports of an ENT project.
    List(List),
    /// Read and check exports without importing them (no database): what the import's parsing
    /// costs, in MB/s of XML.
    Parse(ParsePaths),
}

#[derive(Args)]
pub(super) struct ParsePaths {
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

#[derive(Args)]
pub(super) struct Import {
    /// Bundles, XML files or folders holding them.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The ENT project (idENT); default: from the GAR file names.
    #[arg(long)]
    ent: Option<String>,
    /// Apply even if an establishment would lose more than `feed.large_deletion_share` of its persons.
    #[arg(long)]
    accept_large_deletion: bool,
    /// Print reports as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub(super) struct ById {
    /// Import id, as reports show it.
    id: i64,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub(super) struct ReportArgs {
    id: i64,
    /// JSON rather than text.
    #[arg(long, conflicts_with = "xml")]
    json: bool,
    /// XML (schema/feed-report.xsd) rather than text.
    #[arg(long)]
    xml: bool,
}

#[derive(Args)]
pub(super) struct List {
    #[arg(long)]
    ent: String,
    #[arg(long, default_value_t = 20)]
    limit: i64,
}

/// Exit code of a held import.
pub(super) const HELD: u8 = 3;

impl FeedCommand {
    /// Runs the command; `Ok(code)` is the process exit code.
    pub(super) fn run(self, config: &Config) -> anyhow::Result<u8> {
        if let FeedCommand::Parse(args) = self {
            return parse(config, &args.paths);
        }
        let mut conn = config.database_url().connect()?;
        store::run_migrations(&mut conn)?;
        // The nodes' pseudonym key: the seats an import moves are audited under the same subjects.
        let pseudonyms =
            Pseudonyms::new(&KeyMaterial::load_or_create(&KeyPaths::in_data_dir(&config.data_dir))?.pseudonym_secret);
        match self {
            FeedCommand::Import(args) => import(config, &pseudonyms, &mut conn, args),
            FeedCommand::Confirm(args) => {
                let bar = Bar::new(&format!("import {}", args.id));
                let options = options(config, &pseudonyms, &bar, true);
                let outcome = feed::confirm(&mut conn, args.id, None, &options);
                bar.finish();
                Ok(print(&outcome?, args.json))
            }
            FeedCommand::Discard(args) => {
                let report = feed::discard(&mut conn, args.id, None, &Actor::operator())?;
                println!("{}", if args.json { serde_json::to_string_pretty(&report)? } else { report.to_string() });
                Ok(0)
            }
            FeedCommand::Report(args) => {
                let row = imports::find(&mut conn, args.id)?.ok_or(FeedError::NotFound(args.id))?;
                let report: Report = serde_json::from_str(&row.report).unwrap_or_default();
                match (args.json, args.xml) {
                    (true, _) => println!("{}", serde_json::to_string_pretty(&report)?),
                    (_, true) => println!("{}", report.to_xml()),
                    _ => print!("{report}"),
                }
                Ok(0)
            }
            FeedCommand::List(args) => {
                for row in imports::list(&mut conn, &args.ent, args.limit)? {
                    let finished = row.finished_at.map(|t| t.to_string()).unwrap_or_else(|| "-".into());
                    println!("{:>6}  {:<9}  {}  {}  {}", row.id, row.status, row.started_at, finished, row.source);
                }
                Ok(0)
            }
            FeedCommand::Parse(_) => unreachable!("handled before connecting"),
        }
    }
}

fn parse(config: &Config, paths: &[PathBuf]) -> anyhow::Result<u8> {
    let mut code = 0;
    for export in source::discover(paths)? {
        let bar = Bar::new(export.name());
        let started = std::time::Instant::now();
        let loaded = feed::load::parse_only(&export, config.feed.max_export_bytes, 20, &bar);
        bar.finish();
        let seconds = started.elapsed().as_secs_f64();
        let records: u64 = loaded.files.iter().map(|f| f.records).sum();
        let megabytes = loaded.xml_bytes as f64 / 1e6;
        println!(
            "{}: {} files, {records} records, {} refused, {megabytes:.1} MB of XML in {seconds:.2} s: {:.1} MB/s, {:.0} records/s",
            export.name(),
            loaded.files.len(),
            loaded.rejected,
            megabytes / seconds,
            records as f64 / seconds
        );
        if let Some(error) = loaded.error {
            println!("  refused: {error}");
            code = 1;
        }
    }
    Ok(code)
}

fn options<'a>(
    config: &'a Config,
    pseudonyms: &'a Pseudonyms,
    progress: &'a dyn Progress,
    accept: bool,
) -> Options<'a> {
    Options { actor: Actor::operator(), accept_large_deletion: accept, config: &config.feed, progress, pseudonyms }
}

fn import(config: &Config, pseudonyms: &Pseudonyms, conn: &mut AnyConnection, args: Import) -> anyhow::Result<u8> {
    let exports = source::discover(&args.paths)?;
    if exports.is_empty() {
        anyhow::bail!("no bundle or XML file found in {:?}", args.paths);
    }
    let mut code = 0;
    for export in &exports {
        let ent = args.ent.clone().or_else(|| export.name_parts().map(|n| n.ent_id)).ok_or(FeedError::NoEnt)?;
        let bar = Bar::new(export.name());
        let outcome = feed::import(conn, &ent, export, &options(config, pseudonyms, &bar, args.accept_large_deletion));
        bar.finish();
        code = code.max(print(&outcome?, args.json));
    }
    Ok(if code == HELD { HELD } else { code })
}

/// Prints the report; returns the exit code its status calls for.
fn print(outcome: &Outcome, json: bool) -> u8 {
    if json {
        println!("{}", serde_json::to_string_pretty(&outcome.report).expect("a report serializes"));
    } else {
        print!("{}", outcome.report);
    }
    match outcome.status() {
        ImportStatus::Applied => 0,
        ImportStatus::Held => HELD,
        _ => 1,
    }
}

/// A progress bar on stderr (hidden when stderr is not a terminal) and one line per phase.
struct Bar {
    bar: ProgressBar,
    name: String,
    phase: Mutex<Option<Phase>>,
}

impl Bar {
    fn new(name: &str) -> Self {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{msg:>10} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        Self { bar, name: name.to_owned(), phase: Mutex::new(None) }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for Bar {
    fn bytes(&self, done: u64, total: u64) {
        self.bar.set_length(total);
        self.bar.set_position(done);
    }

    fn phase(&self, phase: Phase) {
        let mut current = self.phase.lock().unwrap_or_else(|e| e.into_inner());
        if *current != Some(phase) {
            *current = Some(phase);
            self.bar.set_message(phase.label());
            // Printed even without a terminal: scripts (and tests) follow the phases.
            self.bar.suspend(|| eprintln!("sesame: {}: {}", self.name, phase.label()));
        }
    }
}
