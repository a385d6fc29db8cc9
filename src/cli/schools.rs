//! `sesame schools import FILE`: the national directory's attributes of schools (nature, type,
//! commune, académie…), which `etablissements.xml` serves and `codeNatureUAI` selects on.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::config::Config;
use crate::store;
use crate::subscriptions::national_import;

#[derive(Subcommand)]
pub(super) enum SchoolsCommand {
    /// Import a CSV file whose header names columns as etablissements.xml does (uai, nature_uai,
    /// nature_uai_libe, type_uai, …; `;` or `,` separated). Schools no ENT project fed are skipped.
    Import(Import),
}

#[derive(Args)]
pub(super) struct Import {
    /// The CSV file.
    file: PathBuf,
}

impl SchoolsCommand {
    pub(super) fn run(self, config: &Config) -> anyhow::Result<()> {
        let SchoolsCommand::Import(args) = self;
        let file = std::fs::File::open(&args.file).with_context(|| format!("cannot open {}", args.file.display()))?;
        let schools = national_import::read_csv(file).with_context(|| format!("{}", args.file.display()))?;
        eprintln!("{}: {} schools read", args.file.display(), schools.len());
        let mut conn = config.database_url().connect()?;
        store::run_migrations(&mut conn)?;
        let total = schools.len();
        let imported = national_import::import(&mut conn, &schools, |done| eprintln!("  {done}/{total} written"))?;
        println!(
            "{} schools updated, {} unknown (not fed by any ENT project) skipped",
            imported.updated,
            imported.unknown.len()
        );
        for uai in imported.unknown.iter().take(20) {
            println!("    unknown: {uai}");
        }
        if imported.unknown.len() > 20 {
            println!("    … and {} more", imported.unknown.len() - 20);
        }
        for grown in &imported.expanded {
            let (id, distributor, added) = (&grown.external_id, &grown.distributor, grown.added_schools.len());
            println!("subscription {id} of {distributor}: {added} school(s) of its natures added");
        }
        Ok(())
    }
}
