//! `sesame ent`: ENT projects (school portals) that feed the directory and list resources, and
//! the web origins allowed to embed the médiacentre widget.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::json;

use crate::config::Config;
use crate::domain::audit::{Actor, AuditEvent, AuditKind};
use crate::domain::web_origin::WebOrigin;
use crate::store::partners::{self, CallerKind};
use crate::store::{self, AnyConnection, StoreError, audit, widget_origins, write_transaction};

#[derive(Subcommand)]
pub(super) enum EntCommand {
    /// Register an ENT project, optionally allowing a client certificate on the mTLS listener.
    Add(Add),
    /// Web origins whose pages may embed the médiacentre widget (CORS allow-list).
    #[command(subcommand)]
    Origins(OriginsCommand),
    /// Register (or replace) the project's SAML identity provider from its metadata.
    Idp(super::sso::Idp),
}

#[derive(Args)]
pub(super) struct Add {
    /// idENT, e.g. Z0.
    #[arg(long)]
    id: String,
    /// Display name.
    #[arg(long)]
    name: String,
    /// PEM client certificate the project calls Sesame with (feed, médiacentre).
    #[arg(long)]
    cert: Option<PathBuf>,
    /// The project's SAML identity provider metadata: a file, or an https:// URL (kept and
    /// refreshed every `saml.metadata_refresh_minutes`).
    #[arg(long)]
    metadata: Option<String>,
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
        match self {
            EntCommand::Add(args) => add(config, args),
            EntCommand::Origins(command) => origins(config, command),
            EntCommand::Idp(args) => args.run(config),
        }
    }
}

fn add(config: &Config, args: Add) -> anyhow::Result<()> {
    if args.id.is_empty() || !args.id.chars().all(|c| c.is_ascii_alphanumeric()) {
        anyhow::bail!("`{}` is not an ENT project id: letters and digits only, e.g. Z0", args.id);
    }
    // Read first: a bad metadata file or URL registers nothing.
    let metadata = args.metadata.as_deref().map(super::sso::IdpMetadata::load).transpose()?;
    let certificate = args.cert.as_deref().map(super::read_certificate).transpose()?;
    let mut conn = config.database_url().connect()?;
    store::run_migrations(&mut conn)?;
    if partners::find_ent_project_name(&mut conn, &args.id)?.is_some() {
        anyhow::bail!("ENT project {} already exists", args.id);
    }
    write_transaction(&mut conn, |conn| {
        partners::insert_ent_project(conn, &args.id, &args.name)?;
        if let Some(cert) = &certificate {
            partners::register_certificate(conn, cert, CallerKind::Ent, &args.id)?;
        }
        let details = serde_json::json!({
            "ent": args.id,
            "certificate": certificate.as_ref().map(|c| &c.fingerprint),
        });
        audit::append(conn, &AuditEvent::new(AuditKind::PartnerChanged, Actor::operator(), details).ent(&args.id))?;
        Ok::<_, StoreError>(())
    })?;
    println!("ENT project {} registered", args.id);
    if let Some(cert) = certificate {
        println!("client certificate allowed: {} (SHA-256 {})", cert.subject, cert.fingerprint);
    }
    if let Some(metadata) = metadata {
        metadata.register(config, &mut conn, &args.id, None)?;
    }
    Ok(())
}

fn origins(config: &Config, command: OriginsCommand) -> anyhow::Result<()> {
    let mut conn = config.database_url().connect()?;
    store::run_migrations(&mut conn)?;
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
