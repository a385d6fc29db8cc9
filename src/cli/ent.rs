//! `sesame ent`: ENT projects (school portals) that feed the directory and list resources.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::config::Config;
use crate::domain::audit::{Actor, AuditEvent, AuditKind};
use crate::pki::CertificateInfo;
use crate::store::partners::{self, CallerKind};
use crate::store::{self, StoreError, audit, write_transaction};

#[derive(Subcommand)]
pub(super) enum EntCommand {
    /// Register an ENT project, optionally allowing a client certificate on the mTLS listener.
    Add(Add),
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
}

impl EntCommand {
    pub(super) fn run(self, config: &Config) -> anyhow::Result<()> {
        match self {
            EntCommand::Add(args) => add(config, args),
        }
    }
}

fn add(config: &Config, args: Add) -> anyhow::Result<()> {
    if args.id.is_empty() || !args.id.chars().all(|c| c.is_ascii_alphanumeric()) {
        anyhow::bail!("`{}` is not an ENT project id: letters and digits only, e.g. Z0", args.id);
    }
    let certificate = match &args.cert {
        Some(path) => {
            let pem = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            Some(CertificateInfo::from_pem(&pem).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?)
        }
        None => None,
    };
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
    Ok(())
}
