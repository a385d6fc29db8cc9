//! `sesame resource`: the resource catalogue.

use std::path::PathBuf;

use clap::Subcommand;

use crate::catalogue;
use crate::config::Config;
use crate::store;

#[derive(Subcommand)]
pub(super) enum ResourceCommand {
    /// Create or update resources from a JSON notice file (schema/resource-import.schema.json).
    /// The whole file is checked first; a refused file changes nothing.
    Import {
        /// The notice file, `{"ressources": [ … ]}`.
        file: PathBuf,
    },
}

impl ResourceCommand {
    pub(super) fn run(self, config: &Config) -> anyhow::Result<()> {
        match self {
            ResourceCommand::Import { file } => {
                let mut conn = config.database_url().connect()?;
                store::run_migrations(&mut conn)?;
                let report = catalogue::import_file(&mut conn, &file, &mut |done, total| {
                    eprintln!("{done}/{total} notices written");
                })?;
                let c = report.counts;
                println!(
                    "{}: {} notices: {} created, {} updated, {} unchanged; {} publisher(s) added, {} renamed \
                     (audit event {})",
                    file.display(),
                    report.notices,
                    c.created,
                    c.updated,
                    c.unchanged,
                    c.publishers_added,
                    c.publishers_renamed,
                    report.audit_seq
                );
                Ok(())
            }
        }
    }
}
