//! `sesame person erase`: an erasure request for one person (see `audit::erasure`).

use chrono::Utc;
use clap::Subcommand;

use super::audit::{connect, existing_keys};
use crate::audit::erasure;
use crate::config::Config;
use crate::domain::audit::Actor;
use crate::domain::pseudonym::Pseudonyms;

#[derive(Subcommand)]
pub(super) enum PersonCommand {
    /// Erase a person's data; lists the publishers to forward the request to. Without --yes,
    /// only shows what would be erased.
    Erase {
        /// ENT project (idENT), e.g. Z0.
        #[arg(long)]
        ent: String,
        /// The person's GARPersonIdentifiant.
        #[arg(long)]
        gar_id: String,
        /// Really erase.
        #[arg(long)]
        yes: bool,
    },
}

impl PersonCommand {
    pub(super) fn run(self, config: &Config) -> anyhow::Result<()> {
        let PersonCommand::Erase { ent, gar_id, yes } = self;
        let mut conn = connect(config)?;
        let pseudonyms = Pseudonyms::new(&existing_keys(config)?.pseudonym_secret);
        let report =
            erasure::erase(&mut conn, &pseudonyms, &ent, &gar_id, &Actor::operator(), Utc::now().naive_utc(), !yes)?;
        let c = &report.counts;
        let verb = if yes { "erased" } else { "would erase (dry run: add --yes to erase)" };
        if report.in_directory {
            println!("{verb}: directory record of {gar_id} in ENT project {ent}, {} membership row(s)", c.memberships);
        } else {
            println!("{verb}: {gar_id} is no longer in the directory of ENT project {ent}");
        }
        println!(
            "  {} seat(s) ({} active, given back to their licence counters), {} assignment or history row(s) now \
             naming the pseudonym, {} session(s), {} assignment-manager record(s)",
            c.seats_deleted, c.seats_freed, c.pseudonymised, c.sessions, c.manager_records
        );
        println!(
            "kept: {} audit event(s) under the pseudonym {}, until their retention period ends",
            report.kept_events, report.subject
        );
        if report.recipients.is_empty() {
            println!("no publisher received data about this person");
        } else {
            println!("publishers that received data about this person (forward the request to them):");
            for (recipient, name) in &report.recipients {
                println!(
                    "  {}  {}  {} release(s), last {}",
                    recipient.publisher,
                    name.as_deref().unwrap_or("(unknown name)"),
                    recipient.releases,
                    recipient.last.format("%Y-%m-%d")
                );
            }
        }
        if let Some(seq) = report.event {
            println!("recorded as audit event {seq}");
        }
        Ok(())
    }
}
