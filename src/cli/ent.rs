//! `sesame ent`: settings of ENT projects.

use clap::{Args, Subcommand};
use serde_json::json;

use crate::config::Config;
use crate::domain::audit::{Actor, AuditEvent, AuditKind};
use crate::domain::web_origin::WebOrigin;
use crate::store::{self, AnyConnection, StoreError, audit, partners, widget_origins, write_transaction};

#[derive(Subcommand)]
pub(super) enum EntCommand {
    /// Web origins whose pages may embed the médiacentre widget (CORS allow-list).
    #[command(subcommand)]
    Origins(OriginsCommand),
}

#[derive(Subcommand)]
pub(super) enum OriginsCommand {
    /// List the origins allowed for an ENT project.
    List(EntArg),
    /// Allow an origin, e.g. `sesame ent origins add --ent Z0 https://ent.example.org`.
    Add(OriginArgs),
    /// Withdraw an origin.
    Remove(OriginArgs),
}

#[derive(Args)]
pub(super) struct EntArg {
    /// ENT project id (idENT), e.g. Z0.
    #[arg(long)]
    ent: String,
}

#[derive(Args)]
pub(super) struct OriginArgs {
    /// ENT project id (idENT), e.g. Z0.
    #[arg(long)]
    ent: String,
    /// scheme://host[:port] of the ENT pages, as browsers send it in the Origin header.
    origin: String,
}

impl EntCommand {
    pub(super) fn run(self, config: &Config) -> anyhow::Result<()> {
        let mut conn = config.database_url().connect()?;
        store::run_migrations(&mut conn)?;
        let EntCommand::Origins(command) = self;
        match command {
            OriginsCommand::List(EntArg { ent }) => {
                known_ent(&mut conn, &ent)?;
                for origin in widget_origins::list(&mut conn, &ent)? {
                    println!("{origin}");
                }
            }
            OriginsCommand::Add(OriginArgs { ent, origin }) => {
                let origin = WebOrigin::parse(&origin)?;
                known_ent(&mut conn, &ent)?;
                let added =
                    change(&mut conn, &ent, &origin, "added", |conn| widget_origins::add(conn, &ent, origin.as_str()))?;
                println!("{ent}: {origin} {}", if added { "allowed" } else { "was already allowed" });
            }
            OriginsCommand::Remove(OriginArgs { ent, origin }) => {
                let origin = WebOrigin::parse(&origin)?;
                known_ent(&mut conn, &ent)?;
                let removed = change(&mut conn, &ent, &origin, "removed", |conn| {
                    widget_origins::remove(conn, &ent, origin.as_str())
                })?;
                println!("{ent}: {origin} {}", if removed { "withdrawn" } else { "was not allowed" });
            }
        }
        Ok(())
    }
}

fn known_ent(conn: &mut AnyConnection, ent: &str) -> anyhow::Result<()> {
    if partners::find_ent_project_name(conn, ent)?.is_none() {
        anyhow::bail!("unknown ENT project `{ent}`");
    }
    Ok(())
}

/// Applies an allow-list change and, when it changed something, audits it in the same transaction.
fn change(
    conn: &mut AnyConnection,
    ent: &str,
    origin: &WebOrigin,
    action: &str,
    apply: impl FnOnce(&mut AnyConnection) -> Result<bool, StoreError>,
) -> Result<bool, StoreError> {
    write_transaction(conn, |conn| {
        let changed = apply(conn)?;
        if changed {
            let details = json!({ "widgetOrigin": origin.as_str(), "action": action });
            audit::append(conn, &AuditEvent::new(AuditKind::PartnerChanged, Actor::operator(), details).ent(ent))?;
        }
        Ok(changed)
    })
}
